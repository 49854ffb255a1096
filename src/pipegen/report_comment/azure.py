"""Azure DevOps: pull request threads (`GET/POST .../pullRequests/{id}/threads`,
`PATCH .../threads/{thread}/comments/{comment}`), api-version 7.1."""
from __future__ import annotations

from pipegen.report_comment.base import Target, call, session


class AzureHost:
    """A thread per report; the id pipegen keeps is `thread/comment`."""

    name = "azure"
    API_VERSION = "api-version=7.1"
    CLOSED = "closed"  # informational: never blocks an "all comments resolved" branch policy

    def __init__(self, target: Target, token: str):
        self.target = target
        self.http = session(target, {"Authorization": f"Bearer {token}"})
        self.base = f"{target.api_url}/_apis/git/repositories/{target.repository}/pullRequests/{target.number}/threads"

    def find(self, marker: str) -> str | None:
        response = call(self.http, "GET", f"{self.base}?{self.API_VERSION}", "list the pull request's threads")
        for thread in response.json().get("value", []):
            for comment in thread.get("comments") or []:
                if marker in (comment.get("content") or ""):
                    return f"{thread['id']}/{comment['id']}"
        return None

    def create(self, body: str) -> str:
        response = call(self.http, "POST", f"{self.base}?{self.API_VERSION}", "comment on the pull request",
                        json={"comments": [{"parentCommentId": 0, "content": body, "commentType": 1}],
                              "status": self.CLOSED})
        thread = response.json()
        return f"{thread['id']}/{thread['comments'][0]['id']}"

    def update(self, comment_id: str, body: str) -> None:
        thread, comment = comment_id.split("/", 1)
        call(self.http, "PATCH", f"{self.base}/{thread}/comments/{comment}?{self.API_VERSION}",
             "update the report comment", json={"content": body})
