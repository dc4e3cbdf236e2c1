"""The documents' procedure, "Regenerate storage account access keys", with the Azure
Python SDK's management clients against mlspace: list the datastores on the account,
regenerate key1, resync the workspace's keys, and re-register each datastore with the
new key (overwrite). Debian's python3-azure has all three clients.

    export REQUESTS_CA_BUNDLE=~/.mlspace/data/tls/az-ca-bundle.pem   # from `mlspace az-setup`
    python3 examples/python/regenerate_keys.py ~/.mlspace/data RESOURCE_GROUP WORKSPACE ACCOUNT

It reads the server's endpoints and admin client from the data directory given. Against
another server, give the same values: its management endpoint, tenant, subscription and a
service principal's id and secret.
"""

import json
import os
import sys

from azure.identity import ClientSecretCredential
from azure.mgmt.machinelearningservices import MachineLearningServicesMgmtClient
from azure.mgmt.machinelearningservices.models import AccountKeyDatastoreCredentials, AccountKeyDatastoreSecrets
from azure.mgmt.storage import StorageManagementClient

data_dir, resource_group, workspace, account = sys.argv[1:5]
with open(os.path.join(data_dir, "endpoints.json")) as f:
    endpoints = json.load(f)
with open(endpoints["adminClientFile"]) as f:
    admin = json.load(f)

# The authority is the server's AD FS one: tenant "adfs" under the management origin.
# MSAL asks no one to validate an AD FS authority, so no other option is needed.
credential = ClientSecretCredential("adfs", admin["clientId"], admin["clientSecret"], authority=endpoints["arm"])
arm = {"base_url": endpoints["arm"], "credential_scopes": ["https://management.core.windows.net//.default"]}
storage = StorageManagementClient(credential, endpoints["subscriptionId"], **arm)
ml = MachineLearningServicesMgmtClient(credential, endpoints["subscriptionId"], **arm)

# 1. The datastores you registered on the account. The workspace's own (workspaceblobstore,
# workspacefilestore, ...) follow its keys: step 3 updates them.
datastores = [
    d
    for d in ml.datastores.list(resource_group, workspace)
    if getattr(d.properties, "account_name", None) == account and not d.name.startswith("workspace")
]
for d in datastores:
    print(f"datastore {d.name}: {d.properties.datastore_type} on {d.properties.account_name}")

# 2. Regenerate key1: from the next request on, the old key1 is refused.
keys = storage.storage_accounts.regenerate_key(resource_group, account, {"key_name": "key1"})
new_key = next(k.value for k in keys.keys if k.key_name == "key1")
print("regenerated key1")

# 3. The workspace re-reads its account's keys.
ml.workspaces.begin_resync_keys(resource_group, workspace).result()
print(f"workspace {workspace}: keys resynced")

# 4. Each datastore is registered again with the new key (overwrite). A datastore read back
# carries no secret, as in Azure: its credentials are given anew.
for d in datastores:
    d.properties.credentials = AccountKeyDatastoreCredentials(secrets=AccountKeyDatastoreSecrets(key=new_key))
    ml.datastores.create_or_update(resource_group, workspace, d.name, d)
    print(f"datastore {d.name}: re-registered with the new key1")
