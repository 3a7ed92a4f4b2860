#!/bin/sh
# The library users get has no lock test hooks: libshmr.so and libshmr.a
# (what make install installs) define no shmr__lock_test_hook symbol and
# their lock code makes no indirect call (the hook was one), while the test
# variant libshmr-test.a has both (so the checks can see a hook when there
# is one). Needs the source tree's build/lib: host only. Prints TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." 2>/dev/null && pwd)
lib=$top/build/lib
so=$lib/libshmr.so.1.0.0
a=$lib/libshmr.a
ta=$lib/libshmr-test.a

skip_all() {
	echo "1..1"
	echo "ok 1 - no lock test hooks in release builds # SKIP $1"
	exit 0
}
[ -f "$top/lib/lock.c" ] && [ -f "$so" ] && [ -f "$a" ] && [ -f "$ta" ] ||
	skip_all "no source tree with build/lib/libshmr{.so.1.0.0,.a,-test.a} here ($top)"
command -v nm >/dev/null 2>&1 || skip_all "nm (binutils) not installed"
command -v objdump >/dev/null 2>&1 || skip_all "objdump (binutils) not installed"
command -v ar >/dev/null 2>&1 || skip_all "ar (binutils) not installed"

n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else notok "$desc"; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

has_hook_symbol() {
	# every symbol table: static, dynamic and debug-visible locals
	{ nm -a "$1" 2>/dev/null; nm -D "$1" 2>/dev/null; } | grep -q 'lock_test_hook'
}
# Indirect calls ("call *...") in a disassembly, by function, except in
# walk_thread (the leak report's walk calls its callback by design).
indirect_in() {
	awk '/^[0-9a-f]+ </ { f = $2 } /call +\*/ && f != "<walk_thread>:" { n++ }
	     END { print n + 0 }' "$1"
}
# lock.o of an archive
indirect_calls() {
	rm -rf "$tmp/x" && mkdir "$tmp/x" && (cd "$tmp/x" && ar x "$1" lock.o) &&
		objdump -d --no-show-raw-insn "$tmp/x/lock.o" > "$tmp/x/lock.dis" &&
		indirect_in "$tmp/x/lock.dis"
}

check "libshmr-test.a has the hook symbol (the check sees one)" has_hook_symbol "$ta"
c=$(indirect_calls "$ta")
check "libshmr-test.a's lock.o calls the hook ($c indirect calls)" [ "${c:-0}" -gt 0 ]
check "libshmr.a defines no lock test hook" eval '! has_hook_symbol "$a"'
check "libshmr.so defines no lock test hook" eval '! has_hook_symbol "$so"'
c=$(indirect_calls "$a")
check "libshmr.a's lock.o makes no indirect call ($c)" [ "$c" = 0 ]
objdump -d --no-show-raw-insn "$so" > "$tmp/so.dis"
# the lock functions of the shared library, by symbol (its static
# functions are named only when the symbol table was kept)
awk '/^[0-9a-f]+ <(shmr_mutex_|shmr_rwlock_|shmr_cond_|lock_slow|unlock_slow|release_wake)/ { f = 1; print; next }
     /^[0-9a-f]+ </ { f = 0 } f' "$tmp/so.dis" > "$tmp/lockfns.dis"
check "libshmr.so has the lock functions ($(grep -c '^[0-9a-f]* <' "$tmp/lockfns.dis") found)" \
	[ "$(grep -c '^[0-9a-f]* <shmr_mutex_lock>' "$tmp/lockfns.dis")" = 1 ]
c=$(indirect_in "$tmp/lockfns.dis")
check "libshmr.so's lock functions make no indirect call ($c)" [ "$c" = 0 ]

echo "1..$n"
[ "$fails" = 0 ]
