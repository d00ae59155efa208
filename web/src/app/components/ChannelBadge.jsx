// SPDX-License-Identifier: MIT
// ChannelBadge.jsx - the channel of a conversation or message, as a small coloured label.
import { channelLabel } from '../format.js';

export function ChannelBadge({ channel }) {
  return <span class={`chan chan-${channel}`} data-channel={channel}>{channelLabel(channel)}</span>;
}
