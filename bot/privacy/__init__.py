"""What the bot holds about one person, shown to them (``mydata``) and erased on their word (``forget me``)."""
