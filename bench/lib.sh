# SPDX-License-Identifier: ISC
# Functions shared by bench/run.sh and bench/e2e.sh (sourced; both define
# W, the scratch directory, and die).

# pki LABEL NAME...: a throwaway PKI in $W/pki: an Ed25519 CA and, for
# each NAME, NAME.key and NAME.pem (CN "LABEL NAME", subjectAltName
# 127.0.0.1), valid for a day.
pki() {
	local d=$W/pki label=$1 n
	shift
	mkdir -p "$d"
	openssl req -x509 -newkey ed25519 -nodes -keyout "$d/ca.key" \
	    -out "$d/ca.pem" -days 1 -subj "/CN=clearli $label CA" \
	    >/dev/null 2>&1 || die "openssl: cannot make the CA"
	for n in "$@"; do
		openssl req -newkey ed25519 -nodes -keyout "$d/$n.key" \
		    -out "$d/$n.csr" -subj "/CN=$label $n" >/dev/null 2>&1 &&
		printf 'subjectAltName=IP:127.0.0.1\n' >"$d/$n.ext" &&
		openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.pem" \
		    -CAkey "$d/ca.key" -CAcreateserial -days 1 \
		    -extfile "$d/$n.ext" -out "$d/$n.pem" >/dev/null 2>&1 ||
		    die "openssl: cannot make the $n certificate"
	done
	# The daemons refuse a private key others could read.
	chmod 600 "$d"/*.key
}

# ru FILE: reads bench/rusage's output; sets U (user+sys CPU s), UU (user
# s), WALL, RSS (kB), ANON (kB), VCSW, IVCSW (context switches) and RUNQ
# (s runnable, not running).
ru() {
	local a
	read -r -a a <"$1" || die "no rusage output in $1"
	U=$(awk -v u="${a[1]}" -v s="${a[3]}" 'BEGIN { printf "%.3f", u + s }')
	UU=${a[1]}
	WALL=${a[5]}
	RSS=${a[7]}
	ANON=${a[9]}
	VCSW=${a[13]}
	IVCSW=${a[15]}
	RUNQ=${a[17]}
}
