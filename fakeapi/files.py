"""Files: the ones users send (learned from their updates), the ones the bot uploads or names by
file_id or URL, `getFile`, and downloads by file path."""

from __future__ import annotations

from typing import Any

from fakeapi.base import FakeBase
from fakeapi.errors import bad_request
from fakeapi.records import StoredFile
from fakeapi.wire import FILE_KEYS, JSON, MethodHandler, UploadedFiles

MAX_DOWNLOAD = 20 * 1024 * 1024


class Files(FakeBase):
    """Every file the fake knows, by file_id."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.files: dict[str, StoredFile] = {}
        self._file_counter = 0

    def _method_table(self) -> dict[str, MethodHandler]:
        return super()._method_table() | {"getFile": self._get_file}

    def _observe_message(self, message: JSON) -> None:
        super()._observe_message(message)
        for size in message.get("photo") or []:
            self._observe_file(size, "photo", "image/jpeg", None)
        for key in FILE_KEYS:
            if isinstance(message.get(key), dict):
                item = message[key]
                self._observe_file(item, key, item.get("mime_type"), item.get("file_name"))

    def _observe_file(self, item: JSON, kind: str, mime_type: str | None, file_name: str | None) -> None:
        file_id = str(item["file_id"])
        if file_id not in self.files:
            self.files[file_id] = StoredFile(
                file_id=file_id,
                file_unique_id=str(item.get("file_unique_id", file_id)),
                file_size=int(item.get("file_size", 0)),
                file_path=f"{kind}s/{file_id}{_extension(mime_type, file_name)}",
                file_name=file_name,
                mime_type=mime_type,
            )

    def new_file(
        self,
        kind: str,
        *,
        size: int = 0,
        content: bytes | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        """Create and remember a file with fresh, Telegram-looking ids."""
        self._file_counter += 1
        number = self._file_counter
        prefix = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC"}.get(kind, "BAAC")
        stored = StoredFile(
            file_id=f"{prefix}AgADfake{number:06d}{kind}",
            file_unique_id=f"AQADfake{number:06d}",
            file_size=len(content) if content is not None else size,
            file_path=f"{kind}s/file_{number}{_extension(mime_type, file_name)}",
            content=content,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        for stored in self.files.values():
            if stored.file_path == path:
                return stored
        return None

    def _resolve_file(self, params: JSON, files: UploadedFiles, key: str, mime: str | None) -> StoredFile:
        """The file a send* call refers to: an upload, an attach:// upload, a known file_id or a URL."""
        value = params.get(key)
        upload_name = (
            value[len("attach://") :] if isinstance(value, str) and value.startswith("attach://") else key
        )
        if upload_name in files:
            file_name, content, mime_type = files[upload_name]
            return self.new_file(key, content=content, file_name=file_name, mime_type=mime_type or mime)
        if not isinstance(value, str) or not value:
            raise bad_request(f"there is no {key} in the request")
        if value in self.files:
            return self.files[value]
        if value.startswith(("http://", "https://")):
            return self.new_file(key, size=10_000, file_name=value.rsplit("/", 1)[-1], mime_type=mime)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _get_file(self, params: JSON, files: UploadedFiles) -> JSON:
        stored = self.files.get(str(params.get("file_id", "")))
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return stored.to_api()


def file_object(source: StoredFile) -> JSON:
    """The fields every Bot API file object has."""
    return {"file_id": source.file_id, "file_unique_id": source.file_unique_id, "file_size": source.file_size}


def photo_size(source: StoredFile, width: int, height: int, size: int | None = None) -> JSON:
    return file_object(source) | {"width": width, "height": height, "file_size": size or source.file_size}


def file_defaults(kind: str) -> JSON:
    """Required fields PTB's de_json expects on each media type."""
    defaults: dict[str, JSON] = {
        "video": {"width": 640, "height": 360, "duration": 5},
        "animation": {"width": 320, "height": 240, "duration": 3},
        "audio": {"duration": 30},
        "voice": {"duration": 5},
        "video_note": {"length": 240, "duration": 5},
        "sticker": {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False},
    }
    return defaults.get(kind, {})


def _extension(mime_type: str | None, file_name: str | None) -> str:
    if file_name and "." in file_name:
        return "." + file_name.rsplit(".", 1)[-1]
    return {"image/jpeg": ".jpg", "application/pdf": ".pdf", "image/png": ".png"}.get(mime_type or "", "")
