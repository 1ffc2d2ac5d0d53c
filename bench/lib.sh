# SPDX-License-Identifier: ISC
# Functions shared by bench/run.sh and bench/e2e.sh (sourced; both define
# W, the scratch directory, and die).

# pki LABEL ROLE...: a throwaway PKI in $W/pki: an Ed25519 CA and, for
# each ROLE (poi, mdf, lemf, admf), ROLE.key and ROLE.pem (CN "LABEL
# ROLE", subjectAltName 127.0.0.1, the role in the extended key usage as
# docs/PKI.md describes), valid for a day.
pki() {
	local d=$W/pki label=$1 n i
	shift
	mkdir -p "$d"
	openssl req -x509 -newkey ed25519 -nodes -keyout "$d/ca.key" \
	    -out "$d/ca.pem" -days 1 -subj "/CN=clearli $label CA" \
	    -addext keyUsage=critical,keyCertSign,cRLSign \
	    >/dev/null 2>&1 || die "openssl: cannot make the CA"
	for n in "$@"; do
		case $n in
		poi) i=1 ;; mdf) i=2 ;; lemf) i=3 ;; admf) i=4 ;;
		*) die "pki: no role $n" ;;
		esac
		openssl req -newkey ed25519 -nodes -keyout "$d/$n.key" \
		    -out "$d/$n.csr" -subj "/CN=$label $n" >/dev/null 2>&1 &&
		printf 'subjectAltName=IP:127.0.0.1\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth,2.25.131590801250638971518579131844847102469.%s\n' \
		    "$i" >"$d/$n.ext" &&
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
