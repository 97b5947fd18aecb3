"""ConsoleFunction: the web console (GET / and GET /console/{file}), static files of this
directory's ``static/``; it touches no storage (the page calls the API itself)."""

from openbin.api.console import ConsoleFiles
from openbin.api.http import build_resolver, entry_point

app = build_resolver()
files = ConsoleFiles.beside(__file__)


@app.get("/")
def index():
    return files.answer("index.html")


@app.get("/console/<name>")
def asset(name: str):
    return files.answer(name)


lambda_handler = entry_point(app)
