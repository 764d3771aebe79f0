import cProfile, pstats, time
from tests.registration.test_import_export import *  # noqa
def test_zz_prof(db, factory):
    from registration import imports
    org = factory.organization(); organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, status="published", capacity=4000)
    rows = [["姓名", "手机", "单位"]] + [[f"学员{i}", f"139{i:08d}", "厦门大学"] for i in range(1000)]
    t = table(rows)
    pr = cProfile.Profile(); pr.enable()
    imports.import_registrations(event, t, mode="all", now=NOW, actor=organizer)
    pr.disable()
    pstats.Stats(pr).sort_stats("cumulative").print_stats(35)
