# The share of the intents that touch each domain (an intent has 2 or 3).
set title 'Domains of the intents'
set datafile separator tab
set ylabel 'share of intents'
set style fill solid 0.8 border -1
set boxwidth 0.7
set xtics rotate by 45 right
set yrange [0:*]
set grid ytics
unset key
plot data using 0:3:xtic(1) with boxes linecolor rgb '#ff7f0e'
