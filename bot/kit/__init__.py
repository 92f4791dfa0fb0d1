"""The handler kit: the small pieces every feature's handlers use (answering, buttons, callback
data, guards, the main menu, the feature record). Nothing here knows a feature or a conversation."""
