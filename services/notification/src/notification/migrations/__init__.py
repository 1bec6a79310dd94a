"""The package of notification's data migrations: numbered steps (``m<NNNN>_<name>.py``, each with ``async def up``) that
``greenchannel.migrations`` applies in order at start-up or through ``python -m notification.migrate``. A released step is
never edited: a change to the stored shapes or indexes is a new step."""
