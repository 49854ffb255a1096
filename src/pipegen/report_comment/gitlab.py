"""GitLab: merge request notes (`GET/POST /projects/{id}/merge_requests/{iid}/notes`,
`PUT .../notes/{note_id}`), pages by `X-Next-Page`."""
from __future__ import annotations

from urllib.parse import quote

from pipegen.report_comment.base import MAX_PAGES, Target, call, session


class GitlabHost:
    name = "gitlab"

    def __init__(self, target: Target, token: str):
        self.target = target
        self.http = session(target, {"PRIVATE-TOKEN": token})
        project = quote(target.repository, safe="")  # a numeric id, or group/project URL-encoded
        self.base = f"{target.api_url}/projects/{project}/merge_requests/{target.number}/notes"

    def find(self, marker: str) -> str | None:
        page: str | None = "1"
        for _ in range(MAX_PAGES):
            if not page:
                break
            response = call(self.http, "GET", f"{self.base}?per_page=100&page={page}&sort=asc",
                            "list the merge request's notes")
            for note in response.json():
                if marker in (note.get("body") or "") and not note.get("system"):
                    return str(note["id"])
            page = response.headers.get("X-Next-Page") or None
        return None

    def create(self, body: str) -> str:
        response = call(self.http, "POST", self.base, "comment on the merge request", json={"body": body})
        return str(response.json()["id"])

    def update(self, comment_id: str, body: str) -> None:
        call(self.http, "PUT", f"{self.base}/{comment_id}", "update the report note", json={"body": body})
