# backissue: the Discord bot, its index and the default embedding model, CPU only.
#   docker build -t backissue .
#   docker run -d -e DISCORD_TOKEN -v "$PWD/config.toml:/app/config.toml:ro" \
#     -v "$PWD/content:/issues:ro" -v backissue-data:/data backissue

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY scripts ./scripts
COPY bot ./bot
COPY index ./index
# the CPU build of torch (a plain install pulls the multi-GB CUDA one); the same script CI runs
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN EDITABLE=0 TORCH_INDEX="$TORCH_INDEX" scripts/install.sh /opt/venv

FROM python:3.11-slim
# git: for sources that are git repositories
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --create-home --shell /usr/sbin/nologin backissue \
    && mkdir -p /data /issues \
    && chown backissue:backissue /data
COPY --from=build /opt/venv /opt/venv
COPY examples /app/examples
ENV PATH="/opt/venv/bin:$PATH" \
    HF_HUB_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False \
    BACKISSUE_DATA_DIR=/data \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001
VOLUME ["/data"]
# healthy = connected to Discord within the last two minutes (the bot refreshes data_dir/health.json)
HEALTHCHECK --interval=60s --timeout=10s --start-period=180s --retries=3 CMD ["bot", "health"]
ENTRYPOINT ["bot"]
CMD ["run"]
