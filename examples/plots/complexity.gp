# The complexity of the intents, beside ise-sample's default prior.
set title 'Complexity of the intents'
set datafile separator tab
set ylabel 'share of intents'
set style fill solid 0.8 border -1
set boxwidth 0.4
stats data using 2 nooutput
set yrange [0:*]
set xtics ('simple' 0, 'medium' 1, 'complex' 2)
set key top left
set grid ytics
total = STATS_sum > 0 ? STATS_sum : 1
prior(c) = c eq 'simple' ? 0.1 : c eq 'medium' ? 0.4 : 0.5
plot data using ($0 - 0.2):($2 / total) with boxes linecolor rgb '#9467bd' title 'this corpus', \
     '' using ($0 + 0.2):(prior(strcol(1))) with boxes linecolor rgb '#c7c7c7' title 'prior'
