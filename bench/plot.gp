# plot.gp: bar chart of the shmr/baseline ratios of `make bench`.
#
#   gnuplot -e "dat='ratios.dat'; tgt='targets.gp'; out='ratios.png'" bench/plot.gp
#
# dat: "index label ratio is_ops" rows written by summary.awk; tgt: gnuplot
# "set arrow" lines, one short red line per target over its bar.
set terminal pngcairo size 1400,700 noenhanced font "sans,10"
set output out
set title "shmr / baseline (median ratio, log scale)\nns rows (blue): below 1 = shmr faster;  ops/s rows (green): above 1 = shmr faster;  red: the brief's target"
set logscale y
set grid ytics
set style fill solid 0.8 border -1
set boxwidth 0.8
set xtics rotate by -45 nomirror
set ylabel "ratio shmr / baseline"
set key off
set bmargin 12
stats dat using 1 nooutput
set xrange [-0.7:STATS_max + 0.7]
# y from below the smallest ratio or target (0.1) to above the largest (2.5)
stats dat using 3 nooutput
ylo = (STATS_min < 0.1 ? STATS_min : 0.1) / 1.6
yhi = (STATS_max > 2.5 ? STATS_max : 2.5) * 1.6
set yrange [ylo:yhi]
set rmargin 10
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb "black"
load tgt
plot dat using 1:3:($4 > 0 ? 0x2ca02c : 0x1f77b4):xtic(2) with boxes lc rgb variable, \
     dat using 1:3:(sprintf("%.2f", $3)) with labels offset 0,0.7 font "sans,8"
