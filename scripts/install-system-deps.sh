#!/usr/bin/env bash
# Install the system packages the test-suite needs (Debian): PostgreSQL server, Chromium, R
# with survival, cmprsk and jsonlite (tests/data/refs/make_refs.R regenerates the R references),
# CJK fonts (fonts-noto-cjk: Chinese in figures and PDFs), poppler-utils (pdftotext/pdffonts in the
# PDF tests) and gettext (msgfmt for the translation catalogues).
# Idempotent: does nothing when they are already present.
set -euo pipefail
need=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if ! command -v Rscript >/dev/null 2>&1 ||
   ! Rscript -e 'for (p in c("survival", "cmprsk", "jsonlite")) if (!requireNamespace(p, quietly = TRUE)) quit(status = 1)' >/dev/null 2>&1; then
  need+=(r-base-core r-cran-survival r-cran-cmprsk r-cran-jsonlite)
fi
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || need+=(fonts-noto-cjk)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
