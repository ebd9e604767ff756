"""Images for protocols: the options every image-aware protocol shares, and the content parts.

A protocol calls ``prepare_item`` once per unit (with the unit's degradation, if any): each
image is converted, hashed and stored in the run folder in a worker thread, and the returned
copy of the item carries the references. ``user_content`` then builds the user message's
content parts from those references; the engine turns them into data URIs when it sends.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from medevals.errors import ConfigError
from medevals.protocols.base import ProtocolOptions
from medevals.schema import Item, image_part

if TYPE_CHECKING:
    from medevals.protocols.base import SolveContext


class ImageOptions(ProtocolOptions):
    """Options of any protocol that may show images (recorded in the manifest with the others)."""

    image_max_side: int | None = Field(
        None, ge=16, description="shrink images whose longer side exceeds this (pixels, Lanczos)"
    )
    dicom_window: str = Field("stored", description="stored | minmax | C,W | a CT preset (lung, bone ...)")
    image_position: Literal["before", "after"] = Field(
        "before", description="images before or after the question text in the user message"
    )

    @field_validator("dicom_window")
    @classmethod
    def _window(cls, v: str) -> str:
        from medevals.images.dicom import parse_window

        try:
            parse_window(v)
        except ConfigError as e:
            raise ValueError(str(e)) from None
        return v


async def prepare_item(
    item: Item, ctx: SolveContext, options: ImageOptions, *, degrade: str | None = None
) -> tuple[Item, list[dict[str, Any]]]:
    """(item whose images carry their run-folder references, one record per image for the sample).

    The work (decode, convert, degrade, PNG-encode, hash, write once) runs in a thread so the event
    loop keeps other requests moving. Text items come back unchanged with no records.
    """
    if not item.images:
        return item, []
    store = ctx.images
    if store is None:
        raise ConfigError("this run has no image store: images can only be sent inside a run folder")
    from medevals.images.encode import ImageSettings, encode

    settings = ImageSettings(max_side=options.image_max_side, dicom_window=options.dicom_window)

    def work() -> list[tuple[str, int, int]]:
        out = []
        for i, im in enumerate(item.images):
            enc = encode(im, settings, degrade=degrade, seed_key=f"{ctx.seed}:{item.id}:{i}:{degrade}")
            out.append((store.put(enc), enc.width, enc.height))
        return out

    done = await asyncio.to_thread(work)
    images = [im.model_copy(update={"ref": ref}) for im, (ref, _, _) in zip(item.images, done, strict=True)]
    records = [
        {"ref": ref, "width": w, "height": h, **({"label": im.label} if im.label else {})}
        for im, (ref, w, h) in zip(item.images, done, strict=True)
    ]
    return item.model_copy(update={"images": images}), records


def user_content(text: str, item: Item, position: str = "before") -> str | list[dict[str, Any]]:
    """The user message content: the text alone, or image parts (labelled when several) and the text.

    Several images are introduced as "Image 1 (label):", "Image 2:" ... in item order, so a
    question can refer to them by number; a single unlabelled image goes bare.
    """
    if not item.images:
        return text
    parts: list[dict[str, Any]] = []
    many = len(item.images) > 1
    for i, im in enumerate(item.images, start=1):
        if im.ref is None:
            raise ConfigError(f"item {item.id}: image {i} was not prepared (protocol bug: call prepare_item)")
        if many or im.label:
            caption = f"Image {i}" if many else "Image"
            parts.append({"type": "text", "text": f"{caption} ({im.label}):" if im.label else f"{caption}:"})
        parts.append(image_part(im.ref))
    text_part = {"type": "text", "text": text}
    return [*parts, text_part] if position == "before" else [text_part, *parts]
