"""docs/API.md §3.4 (delete), §3.5 (versions) and §3.6 (bin metadata)."""

import pytest

from tests.contract.conftest import USERS

MASTER_REQUIRED = {"message": "You need to pass X-Master-Key in the header"}
FOREIGN = {"message": "X-Master-Key is invalid or the bin doesn't belong to your account"}


def versioned(api, account, bin_id, *records):
    for record in records:
        reply = api.request(
            "PUT",
            f"/v3/b/{bin_id}",
            {"X-Master-Key": account.key, "X-Bin-Versioning": "true"},
            record,
        )
        assert reply.status == 200


# -- docs/API.md §3.4 delete ---------------------------------------------------------------------------------
def test_delete_bin_and_its_versions(api, owner, private_bin):
    versioned(api, owner, private_bin, {"v": 1}, {"v": 2})
    reply = api.request("DELETE", f"/v3/b/{private_bin}", {"X-Master-Key": owner.key})
    assert (reply.status, reply.json()) == (
        200,
        {
            "metadata": {"id": private_bin, "versionsDeleted": 2},
            "message": "Bin deleted successfully",
        },
    )
    for path in (f"/v3/b/{private_bin}", f"/v3/b/{private_bin}/0", f"/v3/b/{private_bin}/1"):
        gone = api.get(path, {"X-Master-Key": owner.key})
        assert (gone.status, gone.json()) == (
            404,
            {"message": "Bin not found or it doesn't belong to your account"},
        )


def test_delete_without_versions(api, owner, private_bin):
    reply = api.request("DELETE", f"/v3/b/{private_bin}", {"X-Master-Key": owner.key})
    assert reply.json()["metadata"] == {"id": private_bin, "versionsDeleted": 0}


def test_delete_public_bin_still_needs_the_owners_key(api, owner, other, public_bin):
    reply = api.request("DELETE", f"/v3/b/{public_bin}")
    assert (reply.status, reply.json()) == (
        401,
        {
            "message": "You need to pass X-Master-Key or X-Access-Key in the header to delete a private bin"
        },
    )
    reply = api.request("DELETE", f"/v3/b/{public_bin}", {"X-Master-Key": other.key})
    assert (reply.status, reply.json()) == (401, FOREIGN)
    other_access = api.access_key(other, "delete")
    reply = api.request("DELETE", f"/v3/b/{public_bin}", {"X-Access-Key": other_access})
    assert (reply.status, reply.json()) == (
        401,
        {"message": "X-Access-Key is invalid or the bin doesn't belong to your account"},
    )
    assert api.get(f"/v3/b/{public_bin}").status == 200


def test_delete_with_access_keys(api, owner, private_bin):
    reply = api.request(
        "DELETE", f"/v3/b/{private_bin}", {"X-Access-Key": api.access_key(owner, "read")}
    )
    assert (reply.status, reply.json()) == (
        403,
        {"message": "X-Access-Key passed does not have permission to delete the bin."},
    )
    reply = api.request(
        "DELETE", f"/v3/b/{private_bin}", {"X-Access-Key": api.access_key(owner, "delete")}
    )
    assert reply.status == 200


def test_delete_ids(api, owner):
    reply = api.request("DELETE", "/v3/b/xyz", {"X-Master-Key": owner.key})
    assert (reply.status, reply.json()) == (400, {"message": "Invalid Bin Id provided"})
    reply = api.request("DELETE", "/v3/b/" + "c" * 24, {"X-Master-Key": owner.key})
    assert reply.status == 404


# -- docs/API.md §3.5 versions -------------------------------------------------------------------------------
def test_count_versions(api, owner, private_bin):
    headers = {"X-Master-Key": owner.key}
    reply = api.get(f"/v3/b/{private_bin}/versions/count", headers)
    assert reply.json() == {"metadata": {"id": private_bin, "versionCount": 0, "private": True}}
    versioned(api, owner, private_bin, {"v": 1}, {"v": 2}, {"v": 3})
    reply = api.get(f"/v3/b/{private_bin}/versions/count", headers)
    assert reply.json()["metadata"]["versionCount"] == 3


def test_count_versions_of_public_bin_needs_no_key(api, public_bin):
    reply = api.get(f"/v3/b/{public_bin}/versions/count")
    assert reply.json() == {"metadata": {"id": public_bin, "versionCount": 0, "private": False}}


def test_count_versions_auth(api, owner, other, private_bin):
    assert api.get(f"/v3/b/{private_bin}/versions/count").json() == MASTER_REQUIRED
    access = api.access_key(owner, "read")
    reply = api.get(f"/v3/b/{private_bin}/versions/count", {"X-Access-Key": access})
    assert (reply.status, reply.json()) == (401, MASTER_REQUIRED)
    reply = api.get(f"/v3/b/{private_bin}/versions/count", {"X-Master-Key": other.key})
    assert (reply.status, reply.json()) == (401, FOREIGN)


def test_delete_versions_back_to_version_zero(api, owner, private_bin):
    versioned(api, owner, private_bin, {"v": 1}, {"v": 2})
    headers = {"X-Master-Key": owner.key}
    reply = api.request("DELETE", f"/v3/b/{private_bin}/versions", headers)
    assert (reply.status, reply.json()) == (
        200,
        {
            "metadata": {"id": private_bin, "versionsDeleted": 2},
            "message": "Versions for the Bin are deleted successfully",
        },
    )
    assert api.get(f"/v3/b/{private_bin}", headers).json()["record"] == USERS
    assert api.get(f"/v3/b/{private_bin}/1", headers).json() == {"message": "Bin version not found"}
    assert (
        api.get(f"/v3/b/{private_bin}/versions/count", headers).json()["metadata"]["versionCount"]
        == 0
    )


def test_delete_versions_preserving_latest(api, owner, private_bin):
    versioned(api, owner, private_bin, {"v": 1}, {"v": 2})
    headers = {"X-Master-Key": owner.key, "X-Preserve-Latest": "true"}
    reply = api.request("DELETE", f"/v3/b/{private_bin}/versions", headers)
    assert reply.json() == {
        "metadata": {"id": private_bin, "versionsDeleted": 2},
        "message": "Versions for the Bin are deleted successfully and latest version preserved on the base record.",
    }
    read = {"X-Master-Key": owner.key}
    assert api.get(f"/v3/b/{private_bin}/0", read).json()["record"] == {"v": 2}
    assert api.get(f"/v3/b/{private_bin}", read).json()["record"] == {"v": 2}
    # history starts again from the preserved record
    versioned(api, owner, private_bin, {"v": 3})
    assert api.get(f"/v3/b/{private_bin}/0", read).json()["record"] == {"v": 2}
    assert api.get(f"/v3/b/{private_bin}/1", read).json()["record"] == {"v": 3}


def test_no_versions_found_is_a_success_as_on_jsonbin(api, owner, private_bin):
    before = api.get(f"/v3/b/{private_bin}", {"X-Master-Key": owner.key})
    reply = api.request("DELETE", f"/v3/b/{private_bin}/versions", {"X-Master-Key": owner.key})
    assert (reply.status, reply.json()) == (200, {"message": "No versions found"})
    assert (
        int(reply.header("X-Requests-Remaining")) == int(before.header("X-Requests-Remaining")) - 1
    )  # charged like any answered request
    after = api.get(f"/v3/b/{private_bin}", {"X-Master-Key": owner.key})
    assert after.json() == before.json()


def test_preserve_latest_must_be_boolean(api, owner, private_bin):
    headers = {"X-Master-Key": owner.key, "X-Preserve-Latest": "perhaps"}
    reply = api.request("DELETE", f"/v3/b/{private_bin}/versions", headers)
    assert (reply.status, reply.json()) == (
        400,
        {"message": "X-Preserve-Latest must be true or false"},
    )


def test_delete_versions_needs_the_owners_master_key(api, owner, other, public_bin):
    versioned(api, owner, public_bin, {"v": 1})
    for headers, expected in (
        ({}, MASTER_REQUIRED),
        ({"X-Access-Key": api.access_key(owner, "delete")}, MASTER_REQUIRED),
        ({"X-Master-Key": other.key}, FOREIGN),
    ):
        reply = api.request("DELETE", f"/v3/b/{public_bin}/versions", headers)
        assert (reply.status, reply.json()) == (401, expected)


# -- docs/API.md §3.6 metadata -------------------------------------------------------------------------------
def test_rename(api, owner, private_bin):
    headers = {"X-Master-Key": owner.key, "X-Bin-Name": "renamed"}
    reply = api.request("PUT", f"/v3/b/{private_bin}/meta/name", headers)
    assert (reply.status, reply.json()) == (
        200,
        {"record": private_bin, "metadata": {"name": "renamed"}},
    )
    read = api.get(f"/v3/b/{private_bin}", {"X-Master-Key": owner.key})
    assert read.json()["metadata"]["name"] == "renamed"


def test_rename_errors(api, owner, private_bin):
    path = f"/v3/b/{private_bin}/meta/name"
    reply = api.request("PUT", path, {"X-Master-Key": owner.key})
    assert (reply.status, reply.json()) == (
        400,
        {"message": "You need to pass X-Bin-Name header to Update the Bin Name"},
    )
    for name in ("", "n" * 129):
        reply = api.request("PUT", path, {"X-Master-Key": owner.key, "X-Bin-Name": name})
        assert (reply.status, reply.json()) == (
            400,
            {"message": "X-Bin-Name cannot be blank or over 128 characters"},
        )


@pytest.mark.parametrize(("value", "private"), [("false", False), ("TRUE", True)])
def test_set_privacy(api, owner, private_bin, value, private):
    headers = {"X-Master-Key": owner.key, "X-Bin-Private": value}
    reply = api.request("PUT", f"/v3/b/{private_bin}/meta/privacy", headers)
    assert reply.json() == {"record": private_bin, "metadata": {"private": private}}
    keyless = api.get(f"/v3/b/{private_bin}")
    assert keyless.status == (401 if private else 200)


def test_privacy_errors(api, owner, private_bin):
    path = f"/v3/b/{private_bin}/meta/privacy"
    reply = api.request("PUT", path, {"X-Master-Key": owner.key})
    assert (reply.status, reply.json()) == (
        400,
        {"message": "You need to provide X-Bin-Private header to change the Bin privacy"},
    )
    reply = api.request("PUT", path, {"X-Master-Key": owner.key, "X-Bin-Private": "public"})
    assert (reply.status, reply.json()) == (400, {"message": "X-Bin-Private must be true or false"})


@pytest.mark.parametrize("route", ["meta/name", "meta/privacy"])
def test_metadata_needs_the_owners_master_key(api, owner, other, public_bin, route):
    path = f"/v3/b/{public_bin}/{route}"
    base = {"X-Bin-Name": "x", "X-Bin-Private": "true"}
    for headers, expected in (
        (base, MASTER_REQUIRED),
        ({**base, "X-Access-Key": api.access_key(owner, "update")}, MASTER_REQUIRED),
        ({**base, "X-Master-Key": other.key}, FOREIGN),
    ):
        reply = api.request("PUT", path, headers)
        assert (reply.status, reply.json()) == (401, expected)


def test_metadata_ids(api, owner):
    reply = api.request(
        "PUT", "/v3/b/123/meta/name", {"X-Master-Key": owner.key, "X-Bin-Name": "x"}
    )
    assert (reply.status, reply.json()) == (400, {"message": "Invalid Bin Id provided"})
    reply = api.request(
        "PUT",
        "/v3/b/" + "d" * 24 + "/meta/privacy",
        {"X-Master-Key": owner.key, "X-Bin-Private": "true"},
    )
    assert reply.status == 404
