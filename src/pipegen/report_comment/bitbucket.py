"""Bitbucket Cloud: pull request comments (`GET/POST .../pullrequests/{id}/comments`,
`PUT .../comments/{id}`), pages by `next`."""
from __future__ import annotations

from pipegen.report_comment.base import MAX_PAGES, Target, call, session


class BitbucketHost:
    name = "bitbucket"

    def __init__(self, target: Target, token: str):
        self.target = target
        self.http = session(target, {"Authorization": f"Bearer {token}"}, {"Accept": "application/json"})
        self.base = f"{target.api_url}/repositories/{target.repository}/pullrequests/{target.number}/comments"

    def find(self, marker: str) -> str | None:
        url: str | None = f"{self.base}?pagelen=100"
        for _ in range(MAX_PAGES):
            if not url:
                break
            response = call(self.http, "GET", url, "list the pull request's comments")
            page = response.json()
            for comment in page.get("values", []):
                if marker in ((comment.get("content") or {}).get("raw") or "") and not comment.get("deleted"):
                    return str(comment["id"])
            url = page.get("next")
        return None

    def create(self, body: str) -> str:
        response = call(self.http, "POST", self.base, "comment on the pull request", json={"content": {"raw": body}})
        return str(response.json()["id"])

    def update(self, comment_id: str, body: str) -> None:
        call(self.http, "PUT", f"{self.base}/{comment_id}", "update the report comment",
             json={"content": {"raw": body}})
