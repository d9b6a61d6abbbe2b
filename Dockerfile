# syntax=docker/dockerfile:1
# The dupcert operator image. The same image runs the CertCentral simulator:
#   docker run IMAGE simulator --host 0.0.0.0 --no-tls

# Build stage: the dupcert wheel and the wheels of its pinned dependencies.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml ./
COPY operator ./operator
RUN pip wheel --no-cache-dir --disable-pip-version-check --wheel-dir /wheels .

# Final stage: the wheels are mounted for the install only, so no wheel, build tool or
# pip cache ends up in a layer.
FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/tmp
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels /wheels/dupcert-*.whl
# A numeric user, so Kubernetes can check runAsNonRoot without an /etc/passwd entry.
USER 65532:65532
# The Kopf health endpoint that the chart's probes call.
EXPOSE 8080
ENTRYPOINT ["dupcert"]
CMD ["run", "--liveness", "http://0.0.0.0:8080/healthz"]
