"""Builders for the certificate tests (and the access table's world)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.conftest import NOW

RARE_NAMES = ["王喆", "李堃", "张赟", "刘犇", "陈䶮", "陳錦綉"]  # rare characters, and a Traditional name


def sign_up(event, name: str, phone: str, *, unit: str = "厦门大学", group: str | None = None):
    from registration import services as registration_services

    registration, key = registration_services.register_participant(
        event, registration_services.SignupData(name=name, phone=phone, unit=unit, group_name=group), now=NOW,
        ignore_window=True,
    )
    return registration, key


def check_in(event, registration, actor=None):
    from registration.checkin import check_in_registration

    return check_in_registration(event, registration.id, actor=actor, now=NOW, check_replay=False)


def attended_event(db, factory, names=("王喆", "李堃", "张赟"), *, absent=("赵缺席",), title="海峡两岸信息化论坛"):
    """A published forum of a new organization with an organizer; ``names`` signed up and checked in, ``absent``
    signed up and did not come. Returns (event, organizer, {name: (registration, key)})."""
    organization = factory.organization()
    organizer = factory.user(organization=organization, role="organizer", name="李组织")
    event = factory.event(organization, title=title, status="published")
    people = {}
    for i, name in enumerate(list(names) + list(absent)):
        people[name] = sign_up(event, name, f"1390000{i:04d}", unit=f"第{i + 1}中学")
    db.session.commit()
    for name in names:
        check_in(event, people[name][0], actor=organizer)
    db.session.commit()
    return event, organizer, people


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout


def pdf_fonts(pdf: bytes, tmp_path: Path) -> list[dict]:
    """pdffonts' table: name, type, embedded, subset."""
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        # name type [type...] encoding emb sub uni object ID
        rows.append({"name": parts[0], "line": line, "emb": parts[-5], "sub": parts[-4]})
    return rows


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def decode_qr_codes(pdf: bytes, tmp_path: Path, *, page: int = 1, dpi: int = 150) -> list[str]:
    """Render one page with pdftoppm and decode its QR codes with zxing-cpp, as a phone would."""
    import zxingcpp
    from PIL import Image

    path = tmp_path / f"qr-{page}.pdf"
    path.write_bytes(pdf)
    target = tmp_path / f"qr-{page}"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page), "-singlefile", str(path),
                    str(target)], check=True, capture_output=True)
    with Image.open(f"{target}.png") as image:
        return [r.text for r in zxingcpp.read_barcodes(image)]


def run_tasks(app, *, clock=None, max_steps=None) -> int:
    from tasks.runner import Runner

    kwargs = {"clock": clock} if clock is not None else {}
    return Runner(app, sweeps=[], **kwargs).run_tasks(max_steps=max_steps)


class published_results:
    """A stand-in for issue 8's published results: ``{competition id: [award of entrant 1, of entrant 2, …]}``
    (None: no award), installed through certificates.sources.set_results_provider while the block runs."""

    def __init__(self, awards: dict[int, list[str | None]]):
        self.awards = awards
        self.previous = None

    def provide(self, competition):
        import sqlalchemy as sa

        from certificates.sources import AwardedEntrant
        from competition.models import Entrant
        from extensions import db

        tiers = self.awards.get(competition.id)
        if tiers is None:
            return None
        entrants = list(db.session.scalars(sa.select(Entrant).where(Entrant.competition_id == competition.id)
                                           .order_by(Entrant.position, Entrant.id)))
        return [AwardedEntrant(entrant=e, award=a) for e, a in zip(entrants, tiers) if a]

    def __enter__(self):
        from certificates.sources import set_results_provider

        self.previous = set_results_provider(self.provide)
        return self

    def __exit__(self, *exc):
        from certificates.sources import set_results_provider

        set_results_provider(self.previous)
        return False
