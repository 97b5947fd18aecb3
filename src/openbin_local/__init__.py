"""The local AWS: what ``openbin serve`` and every test tier run the real handlers on.

- ``template``: template.yaml read (functions, routes, tables, bucket, queues, policies);
- ``emulator``: DynamoDB and S3 emulated by moto in-process, state kept on disk (``journal``);
- ``runtime``: the functions invoked as Lambda would, within Lambda's and API Gateway's limits;
- ``iam``: every call of a function's code checked against its own policy;
- ``conflicts``: DynamoDB's transaction conflicts;
- ``events``: API Gateway HTTP API events; ``server``: the local HTTP server.

The ``openbin`` CLI (``openbin_cli``) drives it; docs/LOCAL_RUNTIME.md says what it models.
"""
