# ise-audit --matrix: cell (i, j) counts the trajectories that call both tools.
set title 'Tool co-occurrence (trajectories that call both tools)'
set datafile separator tab
set size ratio -1
set xtics rotate by 60 right
set yrange [*:*] reverse
set autoscale fix
set palette defined (0 '#f7fbff', 1 '#6baed6', 2 '#08306b')
set cblabel 'trajectories'
unset key
plot data matrix rowheaders columnheaders using 1:2:3 with image
