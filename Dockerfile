# syntax=docker/dockerfile:1
# The operator's image: the wheel built from this repository, installed into a virtualenv that
# is copied into a slim runtime without pip caches, compilers or the source tree. Runs as the
# non-root user 65532 and needs no writable root filesystem (the chart mounts /tmp).
#
#   docker build -t aura-operator:0.1.0 .
#
# Pin the base by digest for releases: --build-arg PYTHON_IMAGE=python:3.12.11-slim-bookworm@sha256:...
ARG PYTHON_IMAGE=python:3.12.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator/ operator/
# Build the wheel, then install it with its dependencies into /opt/venv (without pip itself).
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
 && python -m venv --without-pip /opt/venv \
 && python -m pip install --no-cache-dir --python /opt/venv/bin/python /wheels/*.whl

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="aura-operator" \
      org.opencontainers.image.description="Kubernetes operator for Neo4j Aura instances" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/venv /opt/venv
USER 65532:65532
ENTRYPOINT ["aura-operator"]
CMD ["run", "--all-namespaces"]
