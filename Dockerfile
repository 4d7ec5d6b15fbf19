FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY requirements/lock.txt ./requirements/
COPY app ./app
# the pinned versions of the lock (scripts/lock.py), as `make` installs them
RUN python -m pip install --no-cache-dir --prefix=/install -c requirements/lock.txt .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 triage
COPY --from=build /install /usr/local
WORKDIR /home/triage
USER triage
ENV DATABASE_URL=sqlite:////home/triage/data/triage.db
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
ENTRYPOINT ["python", "-m", "app"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
