"""Benchmark of issue 9: 1,000 award certificates with QR codes, one merged PDF and a ZIP of one-page PDFs, made by
the real batch task on PostgreSQL; and, in the same run, the floor: bare reportlab drawing the same page into the
same files, with no application around it.

    .venv/bin/python bench/certificates.py [--count 1000] [--design formal]

The app side: a fresh database ``saihui_bench_certificates`` (``flask db upgrade``), an organization, an organizer, a
competition event and ``count`` award holders (name, unit, award tier, competition, group). Timed: from starting
the batch (``certificates.services.start_batch``: the font check of every printed text, the holders stored) to the
task's end, run by the real task runner (``tasks.runner.Runner``): certificates issued with numbers from the counter
row and verify codes, one PDF per certificate, the merged PDF, the ZIP, the clean-up.

The floor: the same pages (the same frame, texts at the same places, the same QR codes) drawn with plain reportlab
calls into the same outputs — one PDF per certificate, one merged PDF, a ZIP — with nothing else: no database, no
layout fitting, no glyph check, no task runner.

Ends with ``BENCH certificates count=<n> total_s=<…> per_s=<…> bare_per_s=<…> ratio=<…> kib_each=<…>`` (plus
``merged_kib_each``): ``kib_each`` is the average one-page PDF (what a participant downloads), ``merged_kib_each``
the merged PDF's size per page. Goals: total_s < 30, ratio >= 0.7, kib_each < 60. Exit status 0 only when every
certificate is there once, with a distinct number.
"""
from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import bench_line, recreate_database, server_environment, upgrade_database  # noqa: E402

DATABASE = "saihui_bench_certificates"
TIERS = [("一等奖", 0.1), ("二等奖", 0.2), ("三等奖", 0.3), ("优秀奖", 0.4)]
GROUPS = ["中职组", "高职组", "企业组"]


def holders(count: int):
    from certificates.sources import Holder
    from demo.people import people, units

    rng = random.Random(9)
    unit_names = units()
    out = []
    tiers = [name for name, share in TIERS for _ in range(round(share * count))][:count]
    tiers += [TIERS[-1][0]] * (count - len(tiers))
    for i, (name, _phone) in enumerate(people(count + 40, seed=9)[40:]):  # leave out the font-test names
        out.append(Holder(key=f"bench:{i}", name=name, unit=rng.choice(unit_names), award=tiers[i],
                          competition="云计算", group=GROUPS[i % len(GROUPS)]))
    return out


def make_app(db_url: str, files_dir: str):
    from config import ProductionConfig

    class BenchConfig(ProductionConfig):
        SQLALCHEMY_DATABASE_URI = db_url
        SECRET_KEY = "bench-" + "x" * 40
        BASE_URL = "https://saihui.example.org"
        TASK_FILES_DIR = files_dir
        SCHEDULER_IN_PROCESS = False

        @classmethod
        def validate(cls) -> None:
            pass

    from app import create_app

    return create_app(BenchConfig)


def run_app(app, holder_list) -> tuple[float, dict]:
    """Start the batch and run it to the end; returns (seconds, task result)."""
    from accounts.models import MembershipRole, Organization
    from accounts.services import add_membership, create_user
    from certificates import services
    from certificates.models import CertificateKind
    from core.types import utcnow
    from events.models import Event, EventKind, EventState
    from extensions import db
    from tasks.models import BackgroundTask, TaskState
    from tasks.runner import Runner

    with app.app_context():
        organization = Organization(name="福建省信息化协会", short_name="闽信协")
        db.session.add(organization)
        db.session.flush()
        organizer = create_user(login="bench@example.org", name="李组织", password="bench-password-1")
        add_membership(organizer, organization, MembershipRole.ORGANIZER)
        now = utcnow()
        event = Event(organization_id=organization.id, kind=EventKind.COMPETITION, title="2026年福建省云计算、小程序行业技能大赛",
                      starts_at=now, ends_at=now, timezone="Asia/Shanghai", status=EventState.PUBLISHED)
        db.session.add(event)
        db.session.commit()
        services.ensure_design(event, CertificateKind.AWARD, actor=organizer, now=now)
        db.session.commit()
        started = time.perf_counter()
        task = services.start_batch(event, CertificateKind.AWARD, holder_list, order="award", actor=organizer,
                                    now=utcnow())
        db.session.commit()
        task_id = task.id
        db.session.remove()
    runner = Runner(app, sweeps=[])
    while True:
        runner.run_tasks()
        with app.app_context():
            task = db.session.get(BackgroundTask, task_id)
            state, result, error = task.state, task.result, task.error
            db.session.remove()
        if state in (TaskState.DONE, TaskState.FAILED, TaskState.CANCELLED):
            break
    seconds = time.perf_counter() - started
    if state != TaskState.DONE:
        raise SystemExit(f"the batch ended {state.value}: {error}")
    return seconds, {"task_id": task_id, **result}


# ---------------------------------------------------------------- the floor: bare reportlab


def bare(app, holder_list, out_dir: Path) -> float:
    """The same pages with plain reportlab calls: positions and texts taken from the design once, before timing."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M
    from reportlab.lib.colors import HexColor
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from certificates import layout
    from certificates.render import DEFAULT_FONT_PATH

    from reportlab import rl_config

    rl_config.useA85 = 0  # binary streams, as the app writes them (a setting, not application work)
    pdfmetrics.registerFont(TTFont("BareKai", DEFAULT_FONT_PATH))
    mm = layout.MM
    width, height = 297 * mm, 210 * mm
    fields = layout.default_fields("formal", "award")
    red, gold = HexColor("#9b1c1c"), HexColor("#b08a2e")
    event = "2026年福建省云计算、小程序行业技能大赛"
    body = ["　　在" + event + "“云计算”赛项（", "高职组）中表现优异，荣获"]

    def diamond(pdf, cx: float, cy: float, d: float) -> None:
        pdf.setFillColor(gold)
        path = pdf.beginPath()
        path.moveTo(cx, cy + d)
        path.lineTo(cx + d, cy)
        path.lineTo(cx, cy - d)
        path.lineTo(cx - d, cy)
        path.close()
        pdf.drawPath(path, stroke=0, fill=1)

    qr_cache: dict[str, tuple] = {}

    def qr_runs(code: str) -> tuple:
        """The QR code's dark runs per row as PDF path operators, computed once per certificate (as the app does)."""
        if code not in qr_cache:
            qr = qrcode.QRCode(border=0, error_correction=ERROR_CORRECT_M, mask_pattern=2)
            qr.add_data(f"https://saihui.example.org/verify/{code}")
            qr.make(fit=True)
            matrix = qr.get_matrix()
            runs = []
            for r, row in enumerate(matrix):
                c = 0
                while c < len(row):
                    if row[c]:
                        start = c
                        while c < len(row) and row[c]:
                            c += 1
                        runs.append((r, start, c - start))
                    else:
                        c += 1
            qr_cache[code] = (len(matrix), " ".join(f"{c} {r} {n} 1 re" for r, c, n in runs) + " f")
        return qr_cache[code]

    def y_of(name: str, size: float, line: int = 0) -> float:
        f = fields[name]
        return height - (f.y * mm + size * 0.88 + line * size * 1.5)

    def draw(pdf, holder, number: str, code: str) -> None:
        pdf.setStrokeColor(red)
        pdf.setLineWidth(2.4)
        pdf.rect(9 * mm, 9 * mm, width - 18 * mm, height - 18 * mm)
        pdf.setStrokeColor(gold)
        pdf.setLineWidth(0.6)
        pdf.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
        for x, y, dx, dy in ((14 * mm, 14 * mm, 1, 1), (width - 14 * mm, 14 * mm, -1, 1),
                             (14 * mm, height - 14 * mm, 1, -1), (width - 14 * mm, height - 14 * mm, -1, -1)):
            pdf.setStrokeColor(gold)
            pdf.setLineWidth(1.0)
            pdf.lines([(x, y, x + dx * 16 * mm, y), (x, y, x, y + dy * 16 * mm)])
            pdf.setStrokeColor(red)
            pdf.setLineWidth(1.4)
            xi, yi = x + dx * 2.2 * mm, y + dy * 2.2 * mm
            pdf.lines([(xi, yi, xi + dx * 10 * mm, yi), (xi, yi, xi, yi + dy * 10 * mm)])
            diamond(pdf, x + dx * 5.6 * mm, y + dy * 5.6 * mm, 1.3 * mm)
        rule_y = height - (fields["title"].y * mm + 40 * 1.25)
        pdf.setStrokeColor(gold)
        pdf.setLineWidth(0.7)
        pdf.line(width / 2 - 52 * mm, rule_y, width / 2 - 3 * mm, rule_y)
        pdf.line(width / 2 + 3 * mm, rule_y, width / 2 + 52 * mm, rule_y)
        diamond(pdf, width / 2, rule_y, 1.6 * mm)
        pdf.setFillColor(red)
        pdf.setFont("BareKai", 40)
        pdf.drawCentredString(width / 2, y_of("title", 40), "荣 誉 证 书")
        pdf.setFillColor(HexColor("#1f1f1f"))
        pdf.setFont("BareKai", 24)
        pdf.drawString(fields["holder"].x * mm, y_of("holder", 24), holder.name + "：")
        pdf.setFont("BareKai", 18)
        for i, line in enumerate(body):
            pdf.drawString(fields["body"].x * mm, y_of("body", 18, i), line)
        pdf.setFillColor(red)
        pdf.setFont("BareKai", 34)
        pdf.drawCentredString(width / 2, y_of("award", 34), holder.award)
        pdf.setFillColor(HexColor("#1f1f1f"))
        pdf.setFont("BareKai", 16)
        pdf.drawString(fields["closing"].x * mm, y_of("closing", 16), "　　特发此证，以资鼓励。")
        pdf.drawCentredString(217 * mm, y_of("organizers", 16), "福建省信息化协会")
        pdf.setFont("BareKai", 14)
        pdf.drawCentredString(217 * mm, y_of("date", 14), "二〇二六年十一月二十四日")
        pdf.setFont("BareKai", 9)
        pdf.drawString(28 * mm, y_of("number", 9), f"证书编号：{number}　验证码：{code}")
        runs = qr_runs(code)
        side, n = 24 * mm, runs[0]
        pdf.saveState()
        pdf.translate(28 * mm, height - 156 * mm)
        pdf.scale(side / n, -side / n)
        pdf.setFillColor(HexColor("#000000"))
        pdf.addLiteral(runs[1])  # the path operators, written once per code
        pdf.restoreState()

    numbers = [(f"〔2026〕闽信协证字第{i + 1:04d}号", f"BARE{i:06d}") for i in range(len(holder_list))]
    started = time.perf_counter()
    singles = []
    for holder, (number, code) in zip(holder_list, numbers):
        buffer = io.BytesIO()
        pdf = canvas.Canvas(buffer, pagesize=(width, height), pageCompression=1)
        draw(pdf, holder, number, code)
        pdf.showPage()
        pdf.save()
        path = out_dir / f"{code}.pdf"
        path.write_bytes(buffer.getvalue())
        singles.append((path, f"{number}_{holder.name}.pdf"))
    merged = io.BytesIO()
    pdf = canvas.Canvas(merged, pagesize=(width, height), pageCompression=1)
    for holder, (number, code) in zip(holder_list, numbers):
        draw(pdf, holder, number, code)
        pdf.showPage()
    pdf.save()
    (out_dir / "merged.pdf").write_bytes(merged.getvalue())
    with zipfile.ZipFile(out_dir / "all.zip", "w", compression=zipfile.ZIP_STORED) as archive:
        for path, name in singles:
            archive.write(path, arcname=name)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)

    db_url = recreate_database(DATABASE)
    upgrade_database(server_environment(db_url))
    files_dir = tempfile.mkdtemp(prefix="saihui-bench-certificates-")
    app = make_app(db_url.replace("postgresql://", "postgresql+psycopg://"), files_dir)
    holder_list = holders(args.count)

    seconds, result = run_app(app, holder_list)
    task_dir = Path(files_dir) / str(result["task_id"])
    merged_size = (task_dir / result["file"]).stat().st_size
    with zipfile.ZipFile(task_dir / result["zip"]) as archive:
        entries = archive.infolist()
    singles_size = sum(e.file_size for e in entries)

    from certificates.models import Certificate
    from extensions import db

    with app.app_context():
        numbers = db.session.scalars(db.select(Certificate.number)).all()
        db.session.remove()
    problems = []
    if len(numbers) != args.count or len(set(numbers)) != args.count:
        problems.append(f"{len(numbers)} certificates, {len(set(numbers))} distinct numbers")
    if len(entries) != args.count or result["count"] != args.count:
        problems.append(f"ZIP has {len(entries)} files, the batch counted {result['count']}")

    with tempfile.TemporaryDirectory(prefix="saihui-bench-bare-") as bare_dir:
        bare_seconds = bare(app, holder_list, Path(bare_dir))

    per_s = args.count / seconds
    bare_per_s = args.count / bare_seconds
    print(f"app: {seconds:.2f} s for {args.count} (merged {merged_size / 1024:.0f} KiB, ZIP {singles_size / 1024:.0f} KiB); "
          f"bare reportlab: {bare_seconds:.2f} s", flush=True)
    for problem in problems:
        print(f"PROBLEM: {problem}", flush=True)
    print(bench_line("certificates", count=args.count, total_s=seconds, per_s=per_s, bare_per_s=bare_per_s,
                     ratio=per_s / bare_per_s, kib_each=singles_size / 1024 / args.count,
                     merged_kib_each=merged_size / 1024 / args.count), flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
