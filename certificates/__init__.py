"""Certificates (证书): award certificates, participation certificates (参会证明), training completion certificates
(结业证书) and appointment letters (聘书), numbered, printable and verifiable by QR code.

Pure modules (no Flask, no database): ``numbering`` (certificate number formats), ``dates`` (二〇二六年十一月二十四日),
``layout`` (fields on the page, fitting text), ``glyphs`` (which characters the font lacks). ``render`` draws pages
with reportlab. ``services`` issues, reissues and revokes; ``jobs`` runs a batch as a background task; ``views`` and
``public_views`` are the pages.
"""
