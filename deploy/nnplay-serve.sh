#!/bin/sh
# Start one process of an nnplay workshop: an app replica, the Dask scheduler or a Dask worker.
#
#   deploy/nnplay-serve.sh app         # Streamlit on $NNPLAY_PORT (8501), behind the proxy
#   deploy/nnplay-serve.sh scheduler   # Dask scheduler on $DASK_SCHEDULER_PORT (8786)
#   deploy/nnplay-serve.sh worker      # a Dask worker of the scheduler at $NNPLAY_DASK
#
# The Docker image uses it as its entrypoint; tests/deploy starts the same roles with it on
# 127.0.0.1. Extra arguments go to the command. $PYTHON picks the interpreter (default: python).
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
ADDRESS="${NNPLAY_ADDRESS:-0.0.0.0}"
role="${1:-app}"
[ "$#" -gt 0 ] && shift

case "$role" in
app)
    : "${STREAMLIT_SERVER_COOKIE_SECRET:?set the same STREAMLIT_SERVER_COOKIE_SECRET on every replica}"
    : "${NNPLAY_DB:?set NNPLAY_DB to the database every replica shares (postgresql+psycopg://...)}"
    exec "$PYTHON" -m streamlit run app.py \
        --server.address "$ADDRESS" --server.port "${NNPLAY_PORT:-8501}" \
        --server.headless true --server.enableXsrfProtection true \
        --server.fileWatcherType none --browser.gatherUsageStats false \
        --client.toolbarMode minimal "$@"
    ;;
scheduler)
    # --no-dashboard still serves /health and /metrics over HTTP: on DASK_HTTP_ADDRESS
    exec "$PYTHON" -m dask scheduler --host "$ADDRESS" --port "${DASK_SCHEDULER_PORT:-8786}" \
        --no-dashboard --dashboard-address "${DASK_HTTP_ADDRESS:-$ADDRESS:8787}" "$@"
    ;;
worker)
    : "${NNPLAY_DASK:?set NNPLAY_DASK to the scheduler address, e.g. tcp://scheduler:8786}"
    # one training job at a time per worker process, on one core: tiny models gain nothing from
    # more threads, and a busy core's spinning OpenMP threads slow everyone down
    export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
    exec "$PYTHON" -m dask worker "$NNPLAY_DASK" --host "$ADDRESS" --nthreads 1 \
        --no-dashboard --dashboard-address "${DASK_HTTP_ADDRESS:-$ADDRESS:0}" \
        --memory-limit "${DASK_WORKER_MEMORY:-2GiB}" "$@"
    ;;
*)
    echo "usage: $0 app|scheduler|worker [extra arguments]" >&2
    exit 2
    ;;
esac
