import datetime as dt

import pytest

from sizhen.core.models import Notification
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.jobs import send_deadline_notices
from sizhen.enterprise_requests.tests.factories import portal_request

pytestmark = pytest.mark.django_db


def test_deadline_notices_once_per_deadline(personas, city, django_capture_on_commit_callbacks):
    late = portal_request(personas["enterprise"], text="稳岗补贴未到账")
    services.dispatch_request(
        late, actor=personas["coordinator"], department=city["a_dept"], today=dt.date(2025, 9, 1)
    )
    soon = portal_request(personas["enterprise_b"], text="用电报装进度")
    services.dispatch_request(
        soon, actor=personas["coordinator"], department=city["b_dept"], today=dt.date(2025, 9, 10)
    )
    Notification.objects.all().delete()
    today = dt.date(2025, 9, 16)  # late is due 2025-09-08; soon is due 2025-09-17
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_notices(today=today) == {"overdue": 1, "soon": 1}
    resp = personas["responsible_department"]
    assert list(Notification.objects.filter(recipient=resp).values_list("subject", flat=True)) == [
        "诉求期限提醒：1 件"
    ]
    assert Notification.objects.filter(recipient=personas["coordinator"]).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_notices(today=today) == {"overdue": 0, "soon": 0}
    assert Notification.objects.count() == 2
    # The soon-due one becomes overdue later: one more notice.
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_notices(today=dt.date(2025, 9, 18)) == {"overdue": 1, "soon": 0}
