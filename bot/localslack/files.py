"""files.*: files_upload_v2's three steps (an upload URL, the bytes POSTed to it, then the share)."""

import json
from typing import Any

from bot.localslack.core import Core
from bot.localslack.model import Call, UploadedFile


class FilesMethods(Core):
    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        filename, length = str(args.get("filename") or ""), str(args.get("length") or "")
        if not filename or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = UploadedFile(file_id, filename, int(length), str(args.get("alt_txt") or ""))
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.base}/upload/{file_id}"}

    def _receive_upload(self, file_id: str, data: bytes) -> tuple[int, bytes]:
        with self._lock:
            self._record(Call("upload", {"file_id": file_id, "bytes": len(data)}, 200, {"ok": True}))
            upload = self.files.get(file_id)
            if upload is None:
                return 404, b"unknown upload"
            upload.data = data
            return 200, f"OK - {len(data)}".encode()

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        try:
            wanted = json.loads(str(args.get("files") or "[]"))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        uploads = [self.files.get(str(item.get("id"))) for item in wanted]
        if not uploads or any(u is None or len(u.data) != u.length for u in uploads):
            return {"ok": False, "error": "file_not_found"}  # never uploaded, or not all of it
        channel = str(args.get("channel_id") or "")
        if channel and channel not in self.workspace.channels and channel[:1] != "D":
            return {"ok": False, "error": "channel_not_found"}
        shared = []
        for item, upload in zip(wanted, uploads, strict=True):
            assert upload is not None
            upload.title = str(item.get("title") or upload.filename)
            if upload.filename.endswith((".png", ".jpg", ".gif")) and not upload.alt_txt.strip():
                self.problems.append(f"image {upload.filename} shared without alt text")
            if channel:
                upload.channels.append(channel)
                if self.files_dir is not None:
                    upload.saved_to = self.files_dir / f"{upload.id}-{upload.filename}"
                    upload.saved_to.write_bytes(upload.data)
            shared.append(
                {"id": upload.id, "name": upload.filename, "title": upload.title, "alt_txt": upload.alt_txt}
            )
        if channel:
            self._show(
                self._audience(channel),
                channel,
                self._next_ts(),
                {"text": str(args.get("initial_comment") or "")},
                ephemeral=False,
                source="files.completeUploadExternal",
            ).files.extend(u.id for u in uploads if u is not None)
        return {"ok": True, "files": shared}
