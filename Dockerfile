# One image for every fluxos service; compose chooses the service by its command
# (`python -m inbox`, `python -m tentacle`, ...).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # litellm must not fetch its model cost map from the internet at import.
    LITELLM_LOCAL_MODEL_COST_MAP=True

WORKDIR /src
COPY . .
RUN pip install . \
    && rm -rf /src \
    && useradd --system --uid 10001 --create-home --home-dir /home/fluxos fluxos

# Run from an empty directory, so the installed package is what gets imported.
WORKDIR /home/fluxos
USER fluxos

CMD ["python", "-m", "inbox"]
