# How many user messages the trajectories have.
set title 'User turns per trajectory'
set xlabel 'user turns'
set ylabel 'trajectories'
set style fill solid 0.8 border -1
set boxwidth 0.8
set xtics 1
set yrange [0:*]
set grid ytics
unset key
plot data using 1:2 with boxes linecolor rgb '#2ca02c'
