"""Decompression bombs sent as a profile picture: refused from the header with a sentence, nothing kept.

A 34-byte WebP can claim 9400×9400 pixels; before the pixel budget (MAX_IMAGE_PIXELS) each such upload
held a worker for seconds, and three at once stopped /healthz. What a client sees is a plain 422.
"""
import io

import pytest

from tests.fixtures.api_client import envelope, error_of
from tests.fixtures.image_bombs import RECIPES, bomb


@pytest.mark.parametrize("fmt", sorted(RECIPES))
def test_a_bomb_as_profile_picture_is_422_and_nothing_is_kept(api, factories, uploads, fmt):
    token = api.token_for(factories.user())
    answer = api.put("/me/picture", token=token, content_type="multipart/form-data",
                     data={"file": (io.BytesIO(bomb(fmt)), f"bomb.{fmt.lower()}")})
    body = error_of(answer, 422, "validation_error")
    assert body["status"] == "invalid" and body["error"]["fields"] == {"file": ["The image has too many pixels."]}
    assert body["message"] == "The image has 9400×9400 pixels; send one of at most 25 megapixels in all."
    assert not uploads.exists() or list(uploads.iterdir()) == []
    assert envelope(api.get("/me", token=token))["data"]["profile_pic_url"] is None
