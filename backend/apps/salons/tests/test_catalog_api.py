"""The public catalog a client app needs to book, and /api/me/."""

import pytest

from apps.common.tests.factories import ServiceFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_salons_are_public(api, salon):
    response = api.get("/api/salons/")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": salon.pk,
            "name": "Main Salon",
            "name_ar": "الصالون الرئيسي",
            "address": "",
            "time_zone": "Asia/Riyadh",
        }
    ]


def test_services_filter_by_salon_and_hide_inactive(api, haircut):
    ServiceFactory(salon=haircut.salon, name="Old perm", is_active=False)
    ServiceFactory(name="Elsewhere")

    response = api.get("/api/services/", {"salon": haircut.salon_id})

    assert response.status_code == 200
    assert [(s["name"], s["duration_minutes"], s["price"]) for s in response.json()["results"]] == [
        ("Haircut", 30, "80.00")
    ]


def test_staff_filter_by_salon_and_service_and_never_show_phones(api, haircut, stylist):
    colour = ServiceFactory(salon=haircut.salon, name="Colour")
    colourist = StaffFactory(salon=haircut.salon, services=[colour])
    StaffFactory(services=[ServiceFactory()])  # another salon

    by_service = api.get("/api/staff/", {"salon": haircut.salon_id, "service": haircut.pk}).json()["results"]
    by_salon = api.get("/api/staff/", {"salon": haircut.salon_id}).json()["results"]

    assert [s["id"] for s in by_service] == [stylist.pk]
    assert {s["id"] for s in by_salon} == {stylist.pk, colourist.pk}
    assert by_service[0] == {"id": stylist.pk, "name": "Sara", "salon": haircut.salon_id, "services": [haircut.pk]}
    assert all("phone" not in str(item) for item in by_salon)
    assert stylist.phone not in api.get(f"/api/staff/{stylist.pk}/").content.decode()


def test_bad_filter_value_is_a_400(api, db):
    response = api.get("/api/services/", {"salon": "abc"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_catalog_is_read_only(api, haircut, customer):
    response = api.as_user(customer).post("/api/services/", {"name": "Free"})

    assert response.status_code == 405


def test_me_reads_and_updates_name_and_language_only(api, customer):
    client = api.as_user(customer)

    changed = client.patch("/api/me/", {"name": "Chris B", "preferred_language": "ar", "role": "manager"})

    assert changed.status_code == 200
    assert changed.json() == {
        "id": customer.pk,
        "phone": customer.phone,
        "name": "Chris B",
        "preferred_language": "ar",
        "preferred_channel": "",
        "sms_opted_out": False,
        "whatsapp_opted_out": False,
        "role": "customer",
        "salon": None,
    }
    customer.refresh_from_db()
    assert (customer.name, customer.preferred_language, customer.role) == ("Chris B", "ar", "customer")


def test_me_refuses_an_unknown_language(api, customer):
    response = api.as_user(customer).patch("/api/me/", {"preferred_language": "fr"})

    assert response.status_code == 400
    assert response.json()["fields"]["preferred_language"]


def test_me_needs_a_login(api, db):
    assert api.get("/api/me/").status_code == 401


def test_openapi_schema_and_docs_are_served(api, db):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = api.get("/api/docs/")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    # Clients learn from the schema that bookings take a bearer JWT.
    assert schema.json()["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"
    assert {"jwtAuth": []} in paths["/api/bookings/"]["post"]["security"]
    for path in [
        "/api/bookings/",
        "/api/bookings/{id}/",
        "/api/auth/otp/request/",
        "/api/auth/otp/verify/",
        "/api/me/",
    ]:
        assert path in paths
    assert "delete" not in paths["/api/bookings/{id}/"]
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
