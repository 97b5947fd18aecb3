import pytest

USERS = {"users": [{"firstName": "Ada", "age": 36}, {"firstName": "Alan", "age": 41}]}
PRICING = "Requests exhausted. Buy additional requests at https://jsonbin.io/pricing"


@pytest.fixture
def owner(api):
    return api.account()


@pytest.fixture
def other(api):
    return api.account()


@pytest.fixture
def private_bin(api, owner):
    return api.create_bin(owner, USERS, X_Bin_Name="users")


@pytest.fixture
def public_bin(api, owner):
    return api.create_bin(owner, USERS, X_Bin_Private="false")
