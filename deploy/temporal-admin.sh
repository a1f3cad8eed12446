#!/bin/sh
# One-shot Temporal administration for docker-compose.yml, run in the temporalio/admin-tools image
# (which ships temporal-sql-tool, the schema files of its server release, and the temporal CLI), and
# for `npm run cluster` (platform/temporal-cluster.ts runs it with the binaries of `npm run
# cluster:build` on PATH and TEMPORAL_SCHEMA_DIR pointing into the server module).
# Against a secured frontend the CLI takes its client certificate from TEMPORAL_TLS_CERT,
# TEMPORAL_TLS_KEY and TEMPORAL_TLS_CA, and an admin token (`temporal-system:admin`) from TEMPORAL_API_KEY.
#
#   temporal-admin.sh schema     create the temporal and visibility databases when missing, then
#                                apply every schema version not yet applied (before the server starts)
#   temporal-admin.sh namespace  wait until the frontend serves, create the namespace when missing,
#                                and register the search attributes it lacks (after the server starts)
#
# Both are idempotent: every `docker compose up` runs them again and they only add what is missing.
# A search attribute that exists with another type is an error, never silently left as is.
set -eu

log() { printf 'temporal-admin: %s\n' "$*"; }
die() { printf 'temporal-admin: %s\n' "$*" >&2; exit 1; }

schema() {
  : "${POSTGRES_SEEDS:?POSTGRES_SEEDS (database host) is required}"
  : "${POSTGRES_USER:?POSTGRES_USER is required}"
  # temporal-sql-tool reads the password from SQL_PASSWORD, so it never appears in a process list
  # (set and empty: a server with trust authentication, as on a developer's machine).
  : "${SQL_PASSWORD?SQL_PASSWORD is required}"
  port="${DB_PORT:-5432}"
  dir="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"

  if command -v nc >/dev/null 2>&1; then
    tries=0
    until nc -z "$POSTGRES_SEEDS" "$port"; do
      tries=$((tries + 1))
      [ "$tries" -lt 60 ] || die "PostgreSQL at $POSTGRES_SEEDS:$port does not answer"
      sleep 1
    done
  fi

  for pair in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
    db="${pair%%:*}"
    kind="${pair##*:}"
    sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" --port "$port" --user "$POSTGRES_USER" --db "$db" "$@"; }
    # create-database fails when the database exists; a real connection problem fails the next step.
    sql create-database >/dev/null 2>&1 && log "created database $db" || log "database $db exists"
    # -v 0.0 only creates the version tables (skipped when the schema is already past 0.0);
    # update-schema applies the versioned directory (not its parent, which would apply nothing).
    sql setup-schema -v 0.0
    sql update-schema -d "$dir/$kind/versioned"
    log "schema of $db is current"
  done
}

namespace() {
  # The temporal CLI reads TEMPORAL_ADDRESS itself.
  : "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is required}"
  : "${TEMPORAL_NAMESPACE:?TEMPORAL_NAMESPACE is required}"
  : "${SEARCH_ATTRIBUTES:?SEARCH_ATTRIBUTES (Name=Type ...) is required}"
  retention="${TEMPORAL_NAMESPACE_RETENTION:-720h}"
  attempts="${TEMPORAL_ADMIN_ATTEMPTS:-90}"

  tries=0
  until temporal operator cluster health 2>/dev/null | grep -q SERVING; do
    tries=$((tries + 1))
    [ "$tries" -lt "$attempts" ] || die "Temporal at $TEMPORAL_ADDRESS is not serving"
    sleep 2
  done

  if temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
    log "namespace $TEMPORAL_NAMESPACE exists"
  else
    temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$retention"
    log "created namespace $TEMPORAL_NAMESPACE (retention $retention)"
  fi

  # A new namespace reaches the frontend's namespace cache after a few seconds.
  tries=0
  until existing="$(temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" 2>/dev/null)"; do
    tries=$((tries + 1))
    [ "$tries" -lt "$attempts" ] || die "namespace $TEMPORAL_NAMESPACE did not become usable"
    sleep 2
  done

  for entry in $SEARCH_ATTRIBUTES; do
    name="${entry%%=*}"
    type="${entry#*=}"
    have="$(printf '%s\n' "$existing" | awk -v n="$name" '$1 == n { print $2; exit }')"
    if [ -z "$have" ]; then
      temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type "$type"
      log "registered search attribute $name ($type)"
    elif [ "$(printf '%s' "$have" | tr 'A-Z' 'a-z')" = "$(printf '%s' "$type" | tr 'A-Z' 'a-z')" ]; then
      log "search attribute $name ($type) exists"
    else
      die "search attribute $name exists as $have, not $type: fix it by hand (workflows filter on it)"
    fi
  done
}

case "${1:-}" in
  schema) schema ;;
  namespace) namespace ;;
  *) die "usage: temporal-admin.sh schema|namespace" ;;
esac
