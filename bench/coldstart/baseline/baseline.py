"""The cold-start yardstick: a handler that only imports boto3 and makes one DynamoDB call."""

import json
import os

import boto3

db = boto3.client("dynamodb")


def handler(event, context):
    item = db.get_item(
        TableName=os.environ["OPENBIN_KEYS_TABLE"],
        Key={"keyHash": {"S": "0" * 64}},
        ConsistentRead=True,
    ).get("Item")
    return {"statusCode": 200, "body": json.dumps({"found": item is not None})}
