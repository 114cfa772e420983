# The intents' embeddings (ise-vendi's built-in embedder) on their first two
# principal components, coloured by the first domain of each (examples/pca.c).
set datafile separator tab
explained = system("sed -n '1s/.*explained //p' '" . data . "'")
labels = system("grep -v '^#' '" . data . "' | cut -f3 | sort -u | tr '\\n' ' '")
set title 'Intent embeddings: first two principal components, by first domain'
set xlabel sprintf('PC1 (%.1f%% of the variance)', 100 * (word(explained, 1) + 0))
set ylabel sprintf('PC2 (%.1f%% of the variance)', 100 * (word(explained, 2) + 0))
set key outside right top
set grid
# eight colours, then the same colours with other shapes
plot for [i = 1:words(labels)] data using 1:(strcol(3) eq word(labels, i) ? $2 : NaN) \
     with points linecolor (i - 1) % 8 + 1 pointtype (i <= 8 ? 7 : i <= 16 ? 5 : 9) pointsize 0.9 \
     title word(labels, i)
