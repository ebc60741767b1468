#!/usr/bin/env bash
# Draws the PNG plots of perf/RESULTS.md from the data files the benchmarks leave in
# perf/data (gnuplot, installed by scripts/install-deps.sh): ns per packet against the
# number of bindings (log scale) and against packet size, and latency percentiles at
# 10/50/90 % of the no-drop rate, one line per contender (perf/kernel-ha.sh's ha6-* and
# ha4-*, mipdp against the kernel; perf/growth.sh's growth-*, mipdp's own tunnel paths).
#
#   perf/plot.sh [--data-dir DIR] [--out-dir DIR]
set -euo pipefail
PROG=plot.sh
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=perf/lib.sh
. perf/lib.sh

DATA_DIR=perf/data
OUT_DIR=perf/plots
while [ $# -gt 0 ]; do
    case "$1" in
        --data-dir) need_value "$@"; DATA_DIR=$2; shift ;;
        --out-dir) need_value "$@"; OUT_DIR=$2; shift ;;
        -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
command -v gnuplot >/dev/null || die "gnuplot is missing: run scripts/install-deps.sh (as root)"
mkdir -p "$OUT_DIR"

contenders() { awk '!/^#/ { print $1 }' "$1" | sort -u; }
TERM_PNG='set terminal pngcairo size 900,560 noenhanced font ",11"'
gnuplot -e 'set terminal' 2>&1 | grep -q pngcairo || TERM_PNG='set terminal png size 900,560 noenhanced'

# line_plot FILE XCOL YCOL OUT TITLE XLABEL [logx]: one line per contender (column 1) of
# data FILE, YCOL against XCOL (rows whose YCOL is nan left out), ns per packet from 0 up,
# drawn into OUT_DIR/OUT.png.
line_plot() {
    local f=$1 x=$2 y=$3 out=$4 title=$5 xlabel=$6 logx=${7:-} c plots=()
    for c in $(contenders "$f"); do
        plots+=("\"< awk '\$1 == \\\"$c\\\" && \$$y != \\\"nan\\\"' $f\" using $x:$y with linespoints title \"$c\"")
    done
    gnuplot <<G
$TERM_PNG
set output "$OUT_DIR/$out.png"
set title "$title"
$([ -n "$logx" ] && echo "set logscale x 10")
set xlabel "$xlabel"
set ylabel "ns per packet"
set yrange [0:*]
set grid
set key top left
plot $(IFS=,; echo "${plots[*]}")
G
    made=$((made + 1))
}

# sizes_plot TAG TITLE: ns per good packet against frame size at the first binding count.
sizes_plot() {
    local f=$DATA_DIR/$1-sizes.dat n c plots=()
    n=$(awk '!/^#/ { print $2; exit }' "$f")
    for c in $(contenders "$f"); do
        plots+=("\"< awk '\$1 == \\\"$c\\\" && \$2 == $n && \$5 != \\\"nan\\\"' $f\" using 0:5:xticlabels(3) with linespoints title \"$c\"")
    done
    gnuplot <<G
$TERM_PNG
set output "$OUT_DIR/$1-sizes.png"
set title "$2, $n bindings, full offered load: ns per good packet against frame size"
set xlabel "frame size (bytes without FCS; imix = 7:4:1 of 64/576/1514)"
set ylabel "ns per good packet"
set yrange [0:*]
set grid
set key top left
plot $(IFS=,; echo "${plots[*]}")
G
    made=$((made + 1))
}

# latency_plot TAG TITLE "COLUMN:NAME ...": the latency percentiles named (columns of the
# latency data file) at 10/50/90 % of each contender's no-drop rate, first binding count.
latency_plot() {
    local f=$DATA_DIR/$1-latency.dat n c p plots=()
    n=$(awk '!/^#/ { print $2; exit }' "$f")
    for c in $(contenders "$f"); do
        for p in $3; do
            plots+=("\"< awk '\$1 == \\\"$c\\\" && \$2 == $n' $f\" using 4:(\$${p%%:*}/1000) with linespoints title \"$c ${p#*:}\"")
        done
    done
    gnuplot <<G
$TERM_PNG
set output "$OUT_DIR/$1-latency.png"
set title "$2, $n bindings: latency at 10/50/90 % of each one's no-drop rate"
set xlabel "% of the contender's no-drop rate"
set ylabel "latency, µs (log scale)"
set logscale y 10
set xrange [0:100]
set grid
set key top left
plot $(IFS=,; echo "${plots[*]}")
G
    made=$((made + 1))
}

made=0
for tag in ha6 ha4; do
    if [ "$tag" = ha6 ]; then
        what="IPv6 home agent (IPv6-in-IPv6)"
        percentiles="6:p50 7:p99 8:p99.9"
    else
        what="IPv4 home agent (kernel: BPF lightweight tunnel)"
        percentiles="6:p50 7:p99"
    fi
    f=$DATA_DIR/$tag-bindings.dat
    if [ -s "$f" ]; then
        line_plot "$f" 2 4 "$tag-bindings" \
            "$what, veth / tap: ns per packet at the no-drop rate (1e9 / no-drop pps)" \
            "bindings (log scale)" logx
    fi
    [ -s "$DATA_DIR/$tag-sizes.dat" ] && sizes_plot "$tag" "$what"
    [ -s "$DATA_DIR/$tag-latency.dat" ] && latency_plot "$tag" "$what" "$percentiles"
done

f=$DATA_DIR/growth-bindings.dat
if [ -s "$f" ]; then
    line_plot "$f" 2 5 growth-bindings \
        "mipdp, one worker core, net_null + template frames: ns per packet (1000 / Mpps) against bindings" \
        "bindings (log scale)" logx
fi

f=$DATA_DIR/growth-sizes.dat
if [ -s "$f" ]; then
    line_plot "$f" 3 6 growth-sizes \
        "mipdp, one worker core, net_null + template frames: ns per packet (1000 / Mpps) against packet size" \
        "inner IP packet size, bytes (MAP and MMA frames add a 40-byte outer IPv6 header)"
fi
[ "$made" -gt 0 ] || die "no data files in $DATA_DIR (run perf/kernel-ha6.sh, kernel-ha4.sh or growth.sh first)"
echo "wrote $made plots to $OUT_DIR"
