#!/usr/bin/env bash
# Replays the documented procedure, "Regenerate storage account access keys", with the mlspace
# CLI in place of az and the TypeScript examples in place of the Python, against the local
# server. It first builds what the procedure starts from: a workspace on a storage account, a
# blob datastore and a file datastore of yours on that account, and a model. Then it follows
# the documents step by step, and shows what fails until both the workspace and the datastores
# are updated.
#
#   npm run build && npm run build:examples
#   mlspace up &                       # in another terminal, or in the background
#   examples/regenerate-keys.sh
#
# RESOURCE_GROUP, WORKSPACE, ACCOUNT and LOCATION change the names it uses (ACCOUNT must be
# 3-24 lowercase letters and digits, unused on the server).
set -euo pipefail

examples=$(cd "$(dirname "$0")" && pwd)
rg=${RESOURCE_GROUP:-myresourcegroup}
ws=${WORKSPACE:-myworkspace}
account=${ACCOUNT:-mystorageaccount}
location=${LOCATION:-eastus}

# The datastore files and config.json hold keys: keep them in a private directory, removed on exit.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

step() { printf '\n== %s\n' "$*"; }
# Runs a command that must fail at this point of the procedure, and shows its error.
must_fail() {
  if "$@" > out.txt 2> err.txt; then
    echo "expected to fail, but it worked: $*" >&2
    exit 1
  fi
  cat out.txt err.txt
}
key_of() { mlspace storage account keys list -g "$rg" -n "$account" --query "[?keyName=='$1'].value" -o tsv; }
# An az ml v2 datastore file: datastore_yaml TYPE NAME CONTAINER_FIELD CONTAINER KEY
datastore_yaml() {
  printf 'type: %s\nname: %s\naccount_name: %s\n%s: %s\ncredentials:\n  account_key: %s\n' "$1" "$2" "$account" "$3" "$4" "$5" > "$2.yml"
}

step "Before: a workspace on storage account $account, two datastores of yours on it, a model"
mlspace login -o none
mlspace group create -n "$rg" -l "$location" -o none
mlspace storage account create -n "$account" -g "$rg" --sku Standard_LRS -o none
mlspace ml workspace create -w "$ws" -g "$rg" --storage-account "$account" -o none
mlspace storage container create -n training --account-name "$account" -o none
mlspace storage share create -n shared --account-name "$account" -o none
datastore_yaml azure_blob trainingdata container_name training "$(key_of key1)"
datastore_yaml azure_file shareddata file_share_name shared "$(key_of key1)"
mlspace ml datastore create --file trainingdata.yml -w "$ws" -g "$rg" -o none
mlspace ml datastore create --file shareddata.yml -w "$ws" -g "$rg" -o none
mkdir model && echo 'weights v1' > model/model.pkl
mlspace ml model create --name classifier --version 1 --path model -w "$ws" -g "$rg" -o table
# Workspace.fromConfig() in the examples reads this, as azureml's from_config does.
mkdir .azureml
printf '{"subscription_id": "%s", "resource_group": "%s", "workspace_name": "%s"}\n' "$(mlspace account show --query id -o tsv)" "$rg" "$ws" > .azureml/config.json

step "What needs to be updated: the datastores that use $account (note name, account, container)"
node "$examples/dist/list-datastores.js" "$account"

step "1. Regenerate the key; save the new one"
mlspace storage account keys renew -g "$rg" -n "$account" --key primary -o none
new_key=$(key_of key1)

step "Until both the workspace and the datastores are updated, errors occur"
must_fail mlspace ml model create --name classifier --version 2 --path model -w "$ws" -g "$rg"
must_fail node "$examples/dist/check-datastores.js" "$account"

step "2. Update the workspace: az login, az ml workspace sync-keys"
mlspace login -o none
mlspace ml workspace sync-keys -w "$ws" -g "$rg"
mlspace ml model create --name classifier --version 2 --path model -w "$ws" -g "$rg" -o table

step "The workspace works again; your datastores still hold the old key"
must_fail node "$examples/dist/check-datastores.js" "$account"

step "3. Re-register the datastores that use $account with the new key, overwriting them"
NEW_ACCOUNT_KEY=$new_key node "$examples/dist/reregister-datastore.js" trainingdata training "$account"
# The file datastore the az ml way: its YAML with the new key, created again (create overwrites).
datastore_yaml azure_file shareddata file_share_name shared "$new_key"
mlspace ml datastore create --file shareddata.yml -w "$ws" -g "$rg" -o table

step "Everything works"
node "$examples/dist/check-datastores.js" "$account"
mlspace ml model download --name classifier --version 1 --download-path downloaded -w "$ws" -g "$rg" --query files -o tsv
echo "The procedure is complete."
