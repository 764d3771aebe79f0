"""Certificate objects for the access table's world (tests/test_access.py): for each event, a participation
certificate of its approved sign-up and a queued certificate batch."""
from __future__ import annotations

from tests.conftest import NOW


def build_certificates(events, users_by_event, registrations) -> dict[int, dict]:
    """``events``: the events; ``users_by_event``: event id -> the organizer who issues; ``registrations``: event id
    -> (registration, key). Returns event id -> {"certificate", "batch"}. Flushes, no commit."""
    from certificates import services, sources
    from certificates.models import CertificateKind
    from tasks.services import start_task

    made = {}
    for event in events:
        actor = users_by_event[event.id]
        registration, _key = registrations[event.id]
        design = services.ensure_design(event, CertificateKind.PARTICIPATION, actor=actor, now=NOW)
        holder = sources.Holder(key=f"reg:{registration.id}", name=registration.contact_name, unit=registration.unit,
                                registration_id=registration.id)
        certificate = services.issue(event, CertificateKind.PARTICIPATION, [holder], design=design, actor=actor,
                                     now=NOW).certificates[0]
        batch = start_task(services.BATCH_KIND, event=event, actor=actor, now=NOW, total=1,
                           params={"kind": "participation", "order": "source", "design_version": design.version,
                                   "holders": [holder.to_dict()]})
        made[event.id] = {"certificate": certificate, "batch": batch}
    return made


def certificate_url_values(world, event) -> dict:
    """URL parameters of the certificate routes, for ``event`` (0 / unknown codes where it has none)."""
    from certificates import services

    made = getattr(world, "certificates", {}).get(event.id)
    if made is None:
        return {"cert_kind": "participation", "certificate_id": 0, "batch_id": 0, "code": "UNKNOWN000",
                "verify_code": "UNKNOWN000", "token": "unknown"}
    certificate = made["certificate"]
    return {
        "cert_kind": "participation",
        "certificate_id": certificate.id,
        "batch_id": made["batch"].id,
        "code": certificate.verify_code,
        "verify_code": certificate.verify_code,
        "token": services.download_token(certificate),
    }
