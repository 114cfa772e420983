# The Vendi Score (q = 1) of nested random prefixes of the pool (ise-vendi --curve).
set title 'Vendi Score (q = 1) against the size of the pool'
set xlabel 'intents'
set ylabel 'Vendi Score'
set logscale x
set yrange [0:*]
set grid
unset key
plot data using 1:2 with linespoints pointtype 7 linewidth 2 linecolor rgb '#1f77b4'
