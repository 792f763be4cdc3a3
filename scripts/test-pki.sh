#!/usr/bin/env bash
# A private certificate authority for the secured test servers (Kafka SSL / SASL_SSL listeners,
# a PostgreSQL cluster with TLS). Nothing here is trusted by the system: every test that talks
# TLS must be given ca.crt explicitly, which is the point.
#
#   scripts/test-pki.sh [dir]    (default <repo>/.cache/pki; idempotent: existing files are kept)
#
# Files written to dir (PEM, keys unencrypted PKCS#8, mode 0600):
#   ca.crt / ca.key               the private CA
#   server.crt / server.key       server certificate for localhost and 127.0.0.1, signed by the CA
#   server-chain.pem              server.key + server.crt (Kafka's PEM keystore wants one file)
#   server.p12                    the same as PKCS#12, password "sluice-test" (for JVM keystores)
#   wronghost.crt / wronghost.key signed by the CA but for wrong.example only (host-name mismatch)
#   client.crt / client.key       client certificate, CN=sluice-client, signed by the CA (mutual TLS)
#   other-ca.crt                  a second CA that signed nothing here (an "untrusted" trust store)
#   selfsigned.crt / .key         a self-signed server certificate for localhost (untrusted chain)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$(realpath -m "${1:-$ROOT/.cache/pki}")"
DAYS=3650
mkdir -p "$DIR"
chmod 700 "$DIR"
cd "$DIR"
umask 077

command -v openssl >/dev/null || { echo "test-pki.sh: openssl not found (apt-get install openssl)" >&2; exit 1; }
# Test files run in parallel and may call this at once: one writer at a time (ca.srl is shared).
if command -v flock >/dev/null; then exec 9>"$DIR/.lock"; flock 9; fi

# Each file is written under a temporary name and renamed, so an interrupted run leaves no empty file
# that a later run would take as done (-s: exists and is not empty).
key() { [[ -s "$1" ]] || { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.tmp" 2>/dev/null && mv "$1.tmp" "$1"; }; }

# $1 name, $2 subject, $3 subjectAltName (or ""), $4 extendedKeyUsage
leaf() {
  local name=$1 subj=$2 san=$3 eku=$4
  [[ -s "$name.crt" ]] && return 0
  key "$name.key"
  local ext="$name.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [[ -n "$san" ]] && echo "subjectAltName=$san"
  } > "$ext"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$DAYS" \
    -extfile "$ext" -out "$name.crt.tmp" 2>/dev/null
  mv "$name.crt.tmp" "$name.crt"
  rm -f "$name.csr" "$ext"
}

if [[ ! -s ca.crt ]]; then
  key ca.key
  openssl req -x509 -new -key ca.key -subj "/CN=Sluice Test CA" -days "$DAYS" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt.tmp 2>/dev/null
  mv ca.crt.tmp ca.crt
fi
leaf server "/CN=localhost" "DNS:localhost,IP:127.0.0.1" serverAuth
leaf wronghost "/CN=wrong.example" "DNS:wrong.example" serverAuth
leaf client "/CN=sluice-client" "" clientAuth

[[ -s server-chain.pem ]] || { cat server.key server.crt > server-chain.pem.tmp && mv server-chain.pem.tmp server-chain.pem; }
[[ -s server.p12 ]] || { openssl pkcs12 -export -inkey server.key -in server.crt -certfile ca.crt \
  -name server -passout pass:sluice-test -out server.p12.tmp 2>/dev/null && mv server.p12.tmp server.p12; }

if [[ ! -s other-ca.crt ]]; then
  key other-ca.key
  openssl req -x509 -new -key other-ca.key -subj "/CN=Some Other CA" -days "$DAYS" \
    -addext "basicConstraints=critical,CA:TRUE" -out other-ca.crt.tmp 2>/dev/null
  mv other-ca.crt.tmp other-ca.crt
fi
if [[ ! -s selfsigned.crt ]]; then
  key selfsigned.key
  openssl req -x509 -new -key selfsigned.key -subj "/CN=localhost" -days "$DAYS" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out selfsigned.crt.tmp 2>/dev/null
  mv selfsigned.crt.tmp selfsigned.crt
fi
echo "$DIR"
