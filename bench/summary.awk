# summary.awk: the table of `make bench` from build/bench/results.csv.
#
#   awk -f bench/summary.awk [-v dat=RATIOS.dat -v gp=TARGETS.gp] [-v notes=NOTES] results.csv
#
# Prints one aligned row per benchmark and implementation with the ratio
# shmr/baseline (of the medians) on every baseline row, and the brief's
# target with met/missed where there is one, and, from the "paired B shmr/X:
# median R" lines of the notes file, the paired ratio. With dat= and gp= it also
# writes the data and the target lines for bench/plot.gp.
# Exit status 0 (missed targets are reported, not failures).

function fmt(v, unit) {
	if (v == "")
		return "-"
	if (unit == "x")
		return sprintf("%.2f", v)
	if (v + 0 >= 1000 || v + 0 <= -1000)
		return sprintf("%.0f", v)
	return sprintf("%.1f", v)
}

# target(benchmark, baseline) -> "<=X" or ">=X" or ""
function target(b, impl,    c) {
	if ((b SUBSEP impl) in tgt)
		return tgt[b, impl]
	# Batch 32 against the loop: at least 0.9 of the ceiling batching
	# allows for that command (its uring_CMD_ceiling row, same run).
	if (b ~ /^uring_[a-z_]+_b32$/ && impl == "ioctl") {
		c = b
		sub(/_b32$/, "_ceiling", c)
		if ((c SUBSEP "shmr") in med)
			return sprintf(">=%.2f", 0.9 * med[c, "shmr"])
	}
	return ""
}

function verdict(ratio, t,    v) {
	v = substr(t, 3) + 0
	if (substr(t, 1, 2) == "<=")
		return ratio <= v ? "met" : "MISSED"
	return ratio >= v ? "met" : "MISSED"
}

function row(b, impl, unit, med, p10, p90, ratio, t, res,    pr, line) {
	pr = ((b SUBSEP impl) in pair) ? pair[b, impl] : "-"
	if (ratio == "-" || ratio == "")
		pr = "-"
	line = sprintf("%-24s %-16s %-6s %12s %12s %12s %7s %7s %7s %s", b, impl, unit, fmt(med, unit),
		       fmt(p10, unit), fmt(p90, unit), ratio, pr, t, res)
	sub(/ +$/, "", line)
	print line
}

function plotrow(label, ratio, t, unit) {
	if (dat == "")
		return
	nplot++
	printf "%d \"%s\" %.6g %s\n", nplot - 1, label, ratio, (unit == "ops/s" || unit == "%") ? 1 : 0 > dat
	if (t != "") {
		printf "set arrow from %g,%.6g to %g,%.6g nohead front lw 3 lc rgb \"#d62728\"\n",
			nplot - 1.45, substr(t, 3) + 0, nplot - 0.55, substr(t, 3) + 0 > gp
	}
}

BEGIN {
	FS = ","
	# The brief's targets ("Targets" in shared/BRIEF.md): shmr / baseline.
	# Region cycles like for like (issue 17): an anonymous region against
	# memfd, which has no name; a named one against POSIX shm. The mixed
	# lifecycle rows stay, without a target.
	tgt["lifecycle_anon", "memfd"] = "<=1.0"
	tgt["lifecycle_named", "posix_shm"] = "<=0.8"
	tgt["tracking_cycle", "memfd"] = "<=1.05"
	tgt["attach", "memfd"] = "<=1.3"
	tgt["attach_nofd", "memfd"] = "<=1.3"
	tgt["attach_nofd", "posix_shm"] = "<=0.8"
	tgt["fault_4k", "memfd"] = "<=1.05"
	tgt["mutex_uncontended", "pthread_robust"] = "<=0.85"
	tgt["mutex_contended_2p", "pthread_robust"] = ">=1.0"
	tgt["mutex_contended_4p", "pthread_robust"] = ">=1.0"
	tgt["mutex_contended_2p_p99", "pthread_robust"] = "<=1.0"
	tgt["mutex_contended_4p_p99", "pthread_robust"] = "<=1.0"
	tgt["handoff_p99", "pthread_robust"] = "<=1.0"
	# Targets on shmr's own value, not a ratio: fairness (slowest process
	# over fastest, percent), locked instructions and system calls per
	# lock+unlock.
	atgt["mutex_contended_2p_fair"] = ">=80"
	atgt["mutex_contended_4p_fair"] = ">=80"
	atgt["mutex_pair_locked"] = "<=2"
	atgt["mutex_pair_syscalls"] = "<=0"
	nb = 0
	nplot = 0
	if (notes != "") {
		while ((getline line < notes) > 0) {
			if (match(line, /paired [a-z0-9_]+ shmr\/[a-z_]+: median [0-9.]+/)) {
				split(substr(line, RSTART, RLENGTH), w, /[ \/:]+/)
				pair[w[2], w[4]] = sprintf("%.2f", w[6])
			}
		}
		close(notes)
	}
}

NR == 1 && $1 == "benchmark" { next }
NF == 6 && $1 !~ /^#/ {
	b = $1; impl = $2
	if (!(b in seen)) {
		seen[b] = 1
		order[++nb] = b
		nimpl[b] = 0
	}
	if (!((b SUBSEP impl) in med))
		imp[b, ++nimpl[b]] = impl
	unit[b, impl] = $3; med[b, impl] = $4; p10[b, impl] = $5; p90[b, impl] = $6
}

END {
	print "ratio = shmr median / baseline median. unit ns: lower is better, a ratio"
	print "below 1 means shmr is faster; unit ops/s: higher is better, a ratio above 1"
	print "means shmr is faster. paired: the median of the same ratio taken within"
	print "each repetition (a check when the machine is noisy). target: the brief's"
	print "bound on ratio, or on shmr's own value where the ratio says (own)."
	print ""
	printf "%-24s %-16s %-6s %12s %12s %12s %7s %7s %7s %s\n", "benchmark", "impl", "unit",
		"median", "p10", "p90", "ratio", "paired", "target", "result"
	met = missed = 0
	for (i = 1; i <= nb; i++) {
		b = order[i]
		has = (b SUBSEP "shmr") in med
		if (has && (b in atgt)) {
			res = verdict(med[b, "shmr"], atgt[b])
			if (res == "met") met++; else missed++
			row(b, "shmr", unit[b, "shmr"], med[b, "shmr"], p10[b, "shmr"], p90[b, "shmr"],
			    "(own)", atgt[b], res)
		} else if (has) {
			row(b, "shmr", unit[b, "shmr"], med[b, "shmr"], p10[b, "shmr"], p90[b, "shmr"],
			    "-", "", "")
		}
		for (j = 1; j <= nimpl[b]; j++) {
			impl = imp[b, j]
			if (impl == "shmr")
				continue
			r = "-"; t = target(b, impl); res = ""
			if (has && med[b, impl] + 0 > 0) {
				ratio = med[b, "shmr"] / med[b, impl]
				r = sprintf("%.2f", ratio)
				plotrow(b "/" impl, ratio, t, unit[b, impl])
				if (t != "") {
					res = verdict(ratio, t)
					if (res == "met") met++; else missed++
				}
			} else if (t != "") {
				res = "no shmr row"
			}
			row(b, impl, unit[b, impl], med[b, impl], p10[b, impl], p90[b, impl], r, t, res)
		}
		# The huge-page target is against shmr's own 4 KiB fault cost.
		if (b == "fault_huge" && has && ("fault_4k" SUBSEP "shmr") in med &&
		    med["fault_4k", "shmr"] > 0) {
			ratio = med["fault_huge", "shmr"] / med["fault_4k", "shmr"]
			t = "<=0.1"
			res = verdict(ratio, t)
			if (res == "met") met++; else missed++
			row(b, "(shmr fault_4k)", unit["fault_4k", "shmr"], med["fault_4k", "shmr"],
			    p10["fault_4k", "shmr"], p90["fault_4k", "shmr"],
			    sprintf("%.2f", ratio), t, res)
			plotrow("fault_huge/shmr_4k", ratio, t, "ns")
		}
	}
	print ""
	printf "targets: %d met, %d missed\n", met, missed
}
