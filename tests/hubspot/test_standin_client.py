"""The stand-in speaks HubSpot's wire format: the official `hubspot-api-client` parses every answer
the sync relies on (owners, pipelines, objects, batch 207s, search, v4 associations, errors), so the
stand-in can't drift from what HubSpot sends without these tests failing."""

import json

import pytest
from hubspot import HubSpot as Client
from hubspot.crm.associations.v4 import ApiException as AssociationsError
from hubspot.crm.deals import ApiException as DealsError
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.objects.calls import ApiException as CallsError
from hubspot.crm.properties import PropertyCreate

from bot.localhubspot import HubSpot

STAGED = {"dealstage": "qualifiedtobuy"}


def seed(hubspot: HubSpot) -> dict[str, str]:
    ana = hubspot.add_owner("ana@example.com", "Ana", "Ng")
    acme = hubspot.add_company("Acme", domain="acme.test")
    bo = hubspot.add_contact("Bo", "Li", "bo@acme.test", company=acme, jobtitle="CTO", phone="+1 555 0100")
    deal = hubspot.add_deal("Acme renewal", stage="qualifiedtobuy", owner=ana, company=acme, contacts=[bo])
    return {"owner": ana, "company": acme, "contact": bo, "deal": deal}


def body_of(error: Exception) -> dict[str, object]:
    return dict(json.loads(error.body))  # type: ignore[attr-defined]


def test_owners_are_found_by_email_and_paged(hubspot: HubSpot, client: Client) -> None:
    ids = [hubspot.add_owner(f"rep{n}@example.com", f"Rep{n}") for n in range(5)]
    found = client.crm.owners.owners_api.get_page(email="REP3@example.com")
    assert [(o.id, o.email, o.first_name) for o in found.results] == [(ids[3], "rep3@example.com", "Rep3")]
    first = client.crm.owners.owners_api.get_page(limit=2)
    rest = client.crm.owners.owners_api.get_page(limit=10, after=first.paging.next.after)
    assert [o.id for o in first.results + rest.results] == ids
    assert client.crm.owners.owners_api.get_by_id(int(ids[0])).user_id > 0


def test_pipeline_stages_say_closed_won_and_lost_by_metadata(client: Client) -> None:
    (pipeline,) = client.crm.pipelines.pipelines_api.get_all("deals").results
    meaning = {s.id: (s.metadata["isClosed"], s.metadata["probability"]) for s in pipeline.stages}
    assert pipeline.id == "default"
    assert meaning["closedwon"] == ("true", "1.0")
    assert meaning["closedlost"] == ("true", "0.0")
    assert meaning["appointmentscheduled"][0] == "false"


def test_list_pages_with_after_through_every_record_once(hubspot: HubSpot, client: Client) -> None:
    made = [hubspot.add_company(f"Company {n}") for n in range(250)]
    hubspot.archive("companies", made[7])
    seen, after, pages = [], None, 0
    while True:
        page = client.crm.companies.basic_api.get_page(limit=100, after=after, properties=["name"])
        seen += [(c.id, c.properties["name"]) for c in page.results]
        pages += 1
        if page.paging is None:
            break
        after = page.paging.next.after
    assert pages == 3
    assert [i for i, _ in seen] == [m for m in made if m != made[7]]
    archived = client.crm.companies.basic_api.get_page(archived=True)
    assert [c.id for c in archived.results] == [made[7]]


def test_read_with_associations_and_by_unique_property(hubspot: HubSpot, client: Client) -> None:
    ids = seed(hubspot)
    deal = client.crm.deals.basic_api.get_by_id(
        ids["deal"],
        properties=["dealname", "dealstage", "hubspot_owner_id"],
        associations=["contacts", "companies"],
    )
    assert deal.properties["dealstage"] == "qualifiedtobuy"
    assert deal.properties["hubspot_owner_id"] == ids["owner"]
    assert [a.id for a in deal.associations["contacts"].results] == [ids["contact"]]
    assert {a.type for a in deal.associations["companies"].results} == {
        "deal_to_company",
        "deal_to_company_unlabeled",
    }
    contact = client.crm.contacts.basic_api.get_by_id(
        "BO@acme.test", id_property="email", properties=["jobtitle"]
    )
    assert (contact.id, contact.properties["jobtitle"]) == (ids["contact"], "CTO")


def test_missing_record_is_hubspots_404_body(client: Client) -> None:
    with pytest.raises(DealsError) as raised:
        client.crm.deals.basic_api.get_by_id("424242")
    assert raised.value.status == 404
    body = body_of(raised.value)
    assert body["category"] == "OBJECT_NOT_FOUND"
    assert body["status"] == "error" and body["correlationId"]


def test_engagement_created_with_associations_shows_on_the_deal(hubspot: HubSpot, client: Client) -> None:
    ids = seed(hubspot)
    call = client.crm.objects.calls.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={
                "hs_timestamp": "1767225600000",
                "hs_call_body": "Talked budget",
                "hs_call_disposition": "f240bbac-87c9-4f6e-bf70-924b57d47db7",
                "hubspot_owner_id": ids["owner"],
            },
            associations=[
                {
                    "to": {"id": ids["deal"]},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 206}],
                },
                {
                    "to": {"id": ids["contact"]},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}],
                },
            ],
        )
    )
    assert call.properties["hs_timestamp"] == "2026-01-01T00:00:00.000Z"
    on_deal = client.crm.associations.v4.basic_api.get_page("deal", ids["deal"], "calls")
    assert [(r.to_object_id, r.association_types[0].type_id) for r in on_deal.results] == [(call.id, 205)]
    (stored,) = hubspot.objects("calls")
    assert stored["associations"] == {"deals": [ids["deal"]], "contacts": [ids["contact"]]}


@pytest.mark.parametrize(
    ("properties", "association_type", "error"),
    [
        ({"hs_timestamp": "1767225600000", "baton_touch_id": "t1"}, 206, "PROPERTY_DOESNT_EXIST"),
        ({"hs_timestamp": "1767225600000", "hubspot_owner_id": "999"}, 206, "INVALID_OWNER_ID"),
        ({"hs_call_body": "no time"}, 206, "REQUIRED"),
        ({"hs_timestamp": "1767225600000", "hs_call_status": "DONE"}, 206, "INVALID_OPTION"),
        ({"hs_timestamp": "1767225600000", "hs_call_disposition": "Connected"}, 206, "INVALID_OPTION"),
        ({"hs_timestamp": "1767225600000"}, 214, None),  # a note's id on a call
    ],
)
def test_a_create_hubspot_would_refuse_is_a_400_and_creates_nothing(
    hubspot: HubSpot, client: Client, properties: dict[str, str], association_type: int, error: str | None
) -> None:
    ids = seed(hubspot)
    with pytest.raises(CallsError) as raised:
        client.crm.objects.calls.basic_api.create(
            SimplePublicObjectInputForCreate(
                properties=properties,
                associations=[
                    {
                        "to": {"id": ids["deal"]},
                        "types": [
                            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": association_type}
                        ],
                    }
                ],
            )
        )
    assert raised.value.status == 400
    body = body_of(raised.value)
    assert body["category"] == "VALIDATION_ERROR"
    if error:
        assert error in [e["error"] for e in body["errors"]]  # type: ignore[attr-defined, index]
    assert hubspot.objects("calls") == []


def test_batch_read_answers_207_naming_the_missing_ids(hubspot: HubSpot, client: Client) -> None:
    ids = seed(hubspot)
    answer = client.crm.deals.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": ids["deal"]}, {"id": "999"}], properties=["dealname"]
        )
    )
    assert [d.properties["dealname"] for d in answer.results] == ["Acme renewal"]
    assert answer.num_errors == 1
    assert answer.errors[0].category == "OBJECT_NOT_FOUND"
    assert answer.errors[0].context == {"ids": ["999"]}


def test_batch_create_update_and_stage_checks(hubspot: HubSpot, client: Client) -> None:
    ids = seed(hubspot)
    made = client.crm.deals.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[{"properties": {"dealname": f"Deal {n}", **STAGED}} for n in range(3)]
        )
    )
    assert [d.properties["dealname"] for d in made.results] == ["Deal 0", "Deal 1", "Deal 2"]
    moved = client.crm.deals.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                {"id": ids["deal"], "properties": {"dealstage": "closedwon"}},
                {"id": "999", "properties": STAGED},
            ]
        )
    )
    assert moved.results[0].properties["hs_is_closed_won"] == "true"
    assert moved.errors[0].context == {"id": ["999"]}
    with pytest.raises(DealsError) as raised:
        client.crm.deals.basic_api.update(
            ids["deal"], SimplePublicObjectInput(properties={"dealstage": "won"})
        )
    assert "INVALID_OPTION" in [e["error"] for e in body_of(raised.value)["errors"]]  # type: ignore[attr-defined, index]


def test_upsert_by_a_unique_property_makes_a_repeat_change_nothing(hubspot: HubSpot, client: Client) -> None:
    ids = seed(hubspot)
    client.crm.properties.core_api.create(
        "calls",
        PropertyCreate(
            name="baton_touch_id",
            label="Baton touch",
            type="string",
            field_type="text",
            group_name="callinformation",
            has_unique_value=True,
        ),
    )
    inputs = BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[
            {
                "idProperty": "baton_touch_id",
                "id": "touch-1",
                "properties": {"hs_timestamp": "1767225600000", "hubspot_owner_id": ids["owner"]},
            }
        ]
    )
    first = client.crm.objects.calls.batch_api.upsert(inputs)
    again = client.crm.objects.calls.batch_api.upsert(inputs)
    assert (first.results[0].new, again.results[0].new) == (True, False)
    assert first.results[0].id == again.results[0].id
    assert len(hubspot.objects("calls")) == 1
    with pytest.raises(CallsError) as raised:  # a create with the same marker is a conflict, not a twin
        client.crm.objects.calls.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"hs_timestamp": "1", "baton_touch_id": "touch-1"})
        )
    assert raised.value.status == 409


def test_search_filters_sorts_and_pages(hubspot: HubSpot, client: Client) -> None:
    ana = hubspot.add_owner("ana@example.com")
    made = [hubspot.add_deal(f"Deal {n}", stage="appointmentscheduled", owner=ana) for n in range(30)]
    hubspot.update("deals", made[4], dealstage="closedlost")
    request = PublicObjectSearchRequest(
        filter_groups=[
            {"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "appointmentscheduled"}]}
        ],
        sorts=[{"propertyName": "hs_object_id", "direction": "DESCENDING"}],
        properties=["dealname"],
        limit=20,
    )
    first = client.crm.deals.search_api.do_search(request)
    request.after = first.paging.next.after
    second = client.crm.deals.search_api.do_search(request)
    assert first.total == 29
    assert [d.id for d in first.results + second.results] == [m for m in reversed(made) if m != made[4]]
    assert second.paging is None
    modified = client.crm.deals.search_api.do_search(
        PublicObjectSearchRequest(
            filter_groups=[
                {
                    "filters": [
                        {
                            "propertyName": "hs_lastmodifieddate",
                            "operator": "GTE",
                            "value": hubspot.objects("deals")[4]["properties"]["hs_lastmodifieddate"],
                        }
                    ]
                }
            ],
            limit=200,
        )
    )
    assert made[4] in [d.id for d in modified.results]


def test_search_refuses_to_page_past_ten_thousand(hubspot: HubSpot, client: Client) -> None:
    with pytest.raises(DealsError) as raised:
        client.crm.deals.search_api.do_search(PublicObjectSearchRequest(limit=100, after="10000"))
    assert raised.value.status == 400
    assert "10000" in body_of(raised.value)["message"]  # type: ignore[operator]
    with pytest.raises(DealsError):
        client.crm.deals.search_api.do_search(PublicObjectSearchRequest(limit=201))


def test_v4_associations_batch_read_create_and_remove(hubspot: HubSpot, client: Client) -> None:
    ids = seed(hubspot)
    lonely = hubspot.add_deal("No contacts", stage="appointmentscheduled")
    read = client.crm.associations.v4.batch_api.get_page(
        "deals", "contacts", {"inputs": [{"id": ids["deal"]}, {"id": lonely}]}
    )
    assert [(r._from.id, [t.to_object_id for t in r.to]) for r in read.results] == [
        (ids["deal"], [ids["contact"]])
    ]
    assert read.errors[0].context == {"fromObjectId": [lonely]}
    created = client.crm.associations.v4.basic_api.create(
        "deals",
        lonely,
        "contacts",
        ids["contact"],
        [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}],
    )
    assert (created.from_object_id, created.to_object_id) == (lonely, ids["contact"])
    client.crm.associations.v4.basic_api.create_default("deals", lonely, "companies", ids["company"])
    back = client.crm.associations.v4.basic_api.get_page("contacts", ids["contact"], "deals")
    assert sorted(r.to_object_id for r in back.results) == sorted([ids["deal"], lonely])
    assert {t.type_id for r in back.results for t in r.association_types} == {4}
    client.crm.associations.v4.basic_api.archive("deals", lonely, "contacts", ids["contact"])
    back = client.crm.associations.v4.basic_api.get_page("contacts", ids["contact"], "deals")
    assert [r.to_object_id for r in back.results] == [ids["deal"]]
    with pytest.raises(AssociationsError) as raised:
        client.crm.associations.v4.basic_api.create(
            "deals",
            lonely,
            "contacts",
            ids["contact"],
            [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 6}],
        )
    assert raised.value.status == 400


def test_archived_records_leave_reads_and_search(hubspot: HubSpot, client: Client) -> None:
    ids = seed(hubspot)
    client.crm.deals.basic_api.archive(ids["deal"])
    with pytest.raises(DealsError):
        client.crm.deals.basic_api.get_by_id(ids["deal"])
    assert client.crm.deals.search_api.do_search(PublicObjectSearchRequest()).total == 0
    assert client.crm.associations.v4.basic_api.get_page("contacts", ids["contact"], "deals").results == []
    assert [d.id for d in client.crm.deals.basic_api.get_page(archived=True).results] == [ids["deal"]]


def test_a_contact_put_on_a_company_by_default_shows_from_both_sides_and_an_unknown_id_makes_nothing(
    hubspot: HubSpot, client: Client
) -> None:
    ids = seed(hubspot)
    other = hubspot.add_company("Initech")
    wendy = hubspot.add_contact("Wendy", "Works")  # no e-mail: nothing for HubSpot to match a domain by
    batch = client.crm.associations.v4.batch_api
    pair = {"from": {"id": wendy}, "to": {"id": other}}
    made = batch.create_default("contacts", "companies", {"inputs": [pair]})
    assert [(r._from.id, r.to.id, r.association_spec.association_type_id) for r in made.results] == [
        (wendy, other, 279)
    ]
    batch.create_default("contacts", "companies", {"inputs": [pair]})  # again: still one association
    on_contact = client.crm.associations.v4.basic_api.get_page("contacts", wendy, "companies")
    assert [(r.to_object_id, [t.type_id for t in r.association_types]) for r in on_contact.results] == [
        (other, [279])
    ]
    on_company = client.crm.associations.v4.basic_api.get_page("companies", other, "contacts")
    assert [(r.to_object_id, [t.type_id for t in r.association_types]) for r in on_company.results] == [
        (wendy, [280])
    ]
    # A company that doesn't exist (or was deleted) refuses the whole batch, and none of it is made.
    lonely = hubspot.add_contact("Lonely", "One")
    hubspot.archive("companies", other)
    for missing in (other, "999999"):
        inputs = [{"from": {"id": lonely}, "to": {"id": ids["company"]}}, {**pair, "to": {"id": missing}}]
        with pytest.raises(AssociationsError) as raised:
            batch.create_default("contacts", "companies", {"inputs": inputs})
        assert raised.value.status == 400 and body_of(raised.value)["category"] == "VALIDATION_ERROR"
    assert client.crm.associations.v4.basic_api.get_page("contacts", lonely, "companies").results == []
    unknown_contact = {"from": {"id": "999999"}, "to": {"id": ids["company"]}}
    with pytest.raises(AssociationsError) as raised:
        batch.create_default("contacts", "companies", {"inputs": [unknown_contact]})
    assert raised.value.status == 404


def test_a_deal_deleted_or_unknown_refuses_the_contacts_default_association_batch_and_makes_none(
    hubspot: HubSpot, client: Client
) -> None:
    ids = seed(hubspot)
    gone = hubspot.add_deal("Gone", stage="appointmentscheduled")
    hubspot.archive("deals", gone)
    wendy = hubspot.add_contact("Wendy", "Works")
    batch = client.crm.associations.v4.batch_api
    for missing in (gone, "999999"):
        inputs = [
            {"from": {"id": wendy}, "to": {"id": ids["deal"]}},
            {"from": {"id": wendy}, "to": {"id": missing}},
        ]
        with pytest.raises(AssociationsError) as raised:
            batch.create_default("contacts", "deals", {"inputs": inputs})
        assert raised.value.status == 400 and body_of(raised.value)["category"] == "VALIDATION_ERROR"
        assert missing in str(body_of(raised.value)["message"])  # what lets the log name the deal
    assert client.crm.associations.v4.basic_api.get_page("contacts", wendy, "deals").results == []
    # The healthy pair alone, sent again, is made.
    batch.create_default(
        "contacts", "deals", {"inputs": [{"from": {"id": wendy}, "to": {"id": ids["deal"]}}]}
    )
    on_contact = client.crm.associations.v4.basic_api.get_page("contacts", wendy, "deals")
    assert [(r.to_object_id, [t.type_id for t in r.association_types]) for r in on_contact.results] == [
        (ids["deal"], [4])
    ]


def test_a_multi_status_account_makes_the_good_pairs_and_names_the_refused_deal_in_a_207(
    hubspot: HubSpot, client: Client
) -> None:
    ids = seed(hubspot)
    hubspot.multi_status = True  # HubSpot's other answer to a batch with a bad pair
    gone = hubspot.add_deal("Gone", stage="appointmentscheduled")
    hubspot.archive("deals", gone)
    wendy = hubspot.add_contact("Wendy", "Works")
    batch = client.crm.associations.v4.batch_api
    inputs = [
        {"from": {"id": wendy}, "to": {"id": ids["deal"]}},
        {"from": {"id": ids["contact"]}, "to": {"id": gone}},
    ]
    # The official client doesn't raise on a 207: parsed, it hands back None (its map for this call
    # has only 200), so Baton reads the answer raw, as the client's own model would.
    assert batch.create_default("contacts", "deals", {"inputs": inputs}) is None
    raw = batch.create_default("contacts", "deals", {"inputs": inputs}, _preload_content=False)
    assert raw.status == 207
    answer = batch.api_client.deserialize(raw, "BatchResponsePublicDefaultAssociation")
    assert [(r._from.id, r.to.id) for r in answer.results] == [(wendy, ids["deal"])]
    assert answer.num_errors == 1
    [error] = answer.errors
    assert error.category == "VALIDATION_ERROR" and gone in error.message
    assert error.context == {"fromObjectId": [ids["contact"]], "toObjectId": [gone]}
    on_wendy = client.crm.associations.v4.basic_api.get_page("contacts", wendy, "deals")
    assert [r.to_object_id for r in on_wendy.results] == [ids["deal"]]
    # The labelled batch create answers the same way, and the client parses its 207 model.
    labelled = batch.create(
        "contacts",
        "companies",
        {
            "inputs": [
                {
                    "from": {"id": wendy},
                    "to": {"id": to},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
                }
                for to in (ids["company"], "999999")
            ]
        },
    )
    assert [r.to_object_id for r in labelled.results] == [ids["company"]]
    assert labelled.num_errors == 1 and labelled.errors[0].context["toObjectId"] == ["999999"]
