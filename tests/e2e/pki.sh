# SPDX-License-Identifier: ISC
# pki.sh: a throwaway CA and server certificate for the end-to-end tests,
# made with openssl req. Sourced after lib.sh.

# make_pki DIR NAME: DIR/ca.crt, and DIR/server.crt with DIR/server.key
# for NAME and 127.0.0.1, signed by that CA. EC keys: quick to make.
make_pki() {
	local d=$1 name=$2 req
	cat > "$d/pki.cnf" <<CNF
[req]
distinguished_name=dn
[dn]
[ca]
basicConstraints=critical,CA:true
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[leaf]
basicConstraints=CA:false
subjectAltName=DNS:$name,IP:127.0.0.1
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
CNF
	req="openssl req -config $d/pki.cnf -x509 -days 2 -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
	$req -subj /CN=etrnd-e2e-CA -extensions ca -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null &&
		$req -subj "/CN=$name" -extensions leaf -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-keyout "$d/server.key" -out "$d/server.crt" 2>/dev/null ||
		fail "openssl req could not make the test certificates"
	chmod 0600 "$d/server.key" "$d/ca.key"
}
