#!/usr/bin/env bash
# System packages the browser tests and PDF checks need: Debian's Chromium, a CJK font, poppler, ffmpeg; and the TrueType
# CJK font that PDF tickets embed (registration/ticket_pdf.py; reportlab cannot embed Noto CJK's CFF outlines).
# Installs them with apt-get when missing and we may (root, or passwordless sudo); otherwise says what to install.
# With "runtime" (make run), only what the app itself needs: the ticket font and poppler (certificate previews run
# poppler's pdftoppm).
set -uo pipefail
need=()
if [ "${1:-}" != runtime ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
  command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)  # fake-camera video for the scanner page test
fi
[ -f /usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf ] || need+=(fonts-lxgw-wenkai)
{ command -v pdftoppm && command -v pdftotext; } >/dev/null 2>&1 || need+=(poppler-utils)  # previews; PDF checks in tests
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
  echo "Browser tests, PDF tickets and certificate previews need: ${need[*]} (apt-get install -y ${need[*]});" \
       "without them those tests are skipped and those pages fail." >&2
  exit 0
fi
echo "Installing ${need[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null 2>&1 || true
$SUDO apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || echo "apt-get install ${need[*]} failed" >&2
exit 0
