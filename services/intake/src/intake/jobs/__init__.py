"""intake's background jobs, each a loop of ``greenchannel.periodic.every`` started with the service runtime."""
