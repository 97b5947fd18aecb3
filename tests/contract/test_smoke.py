def test_create_then_read(api):
    account = api.account()
    bin_id = api.create_bin(account, {"hello": "world"})
    reply = api.get(f"/v3/b/{bin_id}", {"X-Master-Key": account.key})
    assert reply.status == 200
    assert reply.json()["record"] == {"hello": "world"}
