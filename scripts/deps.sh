#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deps.sh [run|check|bench|fuzz] - installs the Debian packages Knotenpunkt needs for a target,
# only those missing, saying what it installs. Needs root (or sudo) when something is missing.
# Node.js and npm (for the web app's bundler) count as present when the commands are there,
# whichever package brought them.
set -euo pipefail

build=(gcc make meson ninja-build pkg-config python3 libuv1-dev libhttp-parser-dev
       libjansson-dev libsqlite3-dev libsodium-dev libssl-dev libgmime-3.0-dev libgumbo-dev
       libcurl4-openssl-dev)
# real mails that Debian ships as test data, read by tests/unit/proto/mime_corpus_test.c
# (tests/corpus-licences.md)
corpus=(libpython3.11-testsuite python3-flufl.bounce python3-dkim)
# the private mail servers of the email channel's tests (tests/integration/mailsrv.py)
mail=(postfix dovecot-imapd dovecot-lmtpd swaks openssl)
case "${1:-run}" in
  run)   want=("${build[@]}") ;;
  check) want=("${build[@]}" libcmocka-dev clang-format curl chromium "${mail[@]}"
               "${corpus[@]}") ;;
  bench) want=("${build[@]}" wrk nginx-light curl "${mail[@]}") ;;
  fuzz)  want=("${build[@]}" clang libclang-rt-14-dev) ;;
  *) echo "usage: $0 [run|check|bench|fuzz]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing missing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks what kind of mail setup to make; the tests run private instances, so none.
if [[ " ${missing[*]} " == *" postfix "* ]]; then
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${missing[*]}"
