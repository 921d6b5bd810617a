"""Platform callbacks: VK Callback API events and the Telegram webhook."""

from fastapi import APIRouter

router = APIRouter()
