# gemini-proxy as a container: gunicorn with the shipped gunicorn.conf.py, as the README runs it.
#   docker build -t gemini-proxy .
#   docker run --stop-timeout 130 -p 8000:8000 --env-file deploy/compose/gemini-proxy.env gemini-proxy
# No key, token or password is in the image: they come from the environment (an env file, a
# Kubernetes Secret). docs/deployment.md#containers-docker-compose says more; deploy/ has the
# Compose and Kubernetes files. tests/e2e/test_dockerfile_standin.py runs this file's install and
# start commands in a fresh virtualenv (images cannot be built on the test machines).

FROM python:3.11.11-slim-bookworm AS build

# A virtualenv, copied whole into the runtime stage: no pip, wheel cache or build leftovers there.
RUN python -m venv /opt/venv
WORKDIR /src
COPY requirements.txt ./
# dumb-init (a static binary shipped as a wheel, so no apt-get) runs as PID 1 with gunicorn as its
# child: the kernel gives PID 1 no default signal actions and leaves it every orphan to reap,
# which an init does and gunicorn's arbiter was not written for.
RUN /opt/venv/bin/pip install --no-cache-dir -r requirements.txt dumb-init==1.2.5.post1

FROM python:3.11.11-slim-bookworm

# A fixed numeric id: Kubernetes' runAsNonRoot can check a number, not a name. /data is created
# and given to that user before VOLUME declares it (changes after VOLUME are discarded).
RUN groupadd --system --gid 10001 gemini-proxy \
    && useradd --system --uid 10001 --gid gemini-proxy --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin gemini-proxy \
    && mkdir /data && chown gemini-proxy:gemini-proxy /data

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The code stays root's: the user can read it, not change it.
COPY gunicorn.conf.py wsgi.py ./
COPY gemini_proxy/ gemini_proxy/
COPY gemini_emulator/ gemini_emulator/

# REQUIRE_GEMINI_KEY=true is the production switch: a container whose key did not arrive stops at
# start instead of answering from the built-in emulator. BIND: every interface of the container
# (its network is the boundary; nginx or the Service in front). The SQLite files (thought
# signatures, stored responses) live in the volume; gunicorn's metrics folder goes to /tmp.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REQUIRE_GEMINI_KEY=true \
    BIND=0.0.0.0:8000 \
    SIGNATURE_DB=/data/thought-signatures.sqlite3 \
    RESPONSES_DB=/data/responses.sqlite3

VOLUME ["/data"]
USER 10001:10001
EXPOSE 8000

# The port follows BIND (its first address). python, not curl: the slim image has no curl, and
# urlopen raises (exit 1: unhealthy) on anything but a 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ['BIND'].split(',')[0].rsplit(':', 1)[1]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]

# SIGTERM drains: new connections refused, streams in flight get GUNICORN_GRACEFUL_TIMEOUT (120 s)
# to finish. Docker's own stop timeout is 10 s: give `docker stop -t 130` / Compose's
# stop_grace_period more. --single-child: the signal goes to gunicorn's arbiter only, which
# drains its workers itself (as systemd's KillMode=mixed does), not to every process at once.
STOPSIGNAL SIGTERM
ENTRYPOINT ["dumb-init", "--single-child", "--"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
