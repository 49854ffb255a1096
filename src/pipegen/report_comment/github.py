"""GitHub: issue comments of the pull request (`GET/POST /repos/{repo}/issues/{n}/comments`,
`PATCH /repos/{repo}/issues/comments/{id}`), pages by the `Link` header."""
from __future__ import annotations

from pipegen.report_comment.base import MAX_PAGES, Target, call, session


class GithubHost:
    name = "github"

    def __init__(self, target: Target, token: str):
        self.target = target
        self.http = session(target, {"Authorization": f"Bearer {token}"},
                            {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"})
        self.base = f"{target.api_url}/repos/{target.repository}"

    def find(self, marker: str) -> str | None:
        url: str | None = f"{self.base}/issues/{self.target.number}/comments?per_page=100"
        for _ in range(MAX_PAGES):
            if not url:
                break
            response = call(self.http, "GET", url, "list the pull request's comments")
            for comment in response.json():
                if marker in (comment.get("body") or ""):
                    return str(comment["id"])
            url = response.links.get("next", {}).get("url")
        return None

    def create(self, body: str) -> str:
        response = call(self.http, "POST", f"{self.base}/issues/{self.target.number}/comments",
                        "comment on the pull request", json={"body": body})
        return str(response.json()["id"])

    def update(self, comment_id: str, body: str) -> None:
        call(self.http, "PATCH", f"{self.base}/issues/comments/{comment_id}", "update the report comment",
             json={"body": body})
